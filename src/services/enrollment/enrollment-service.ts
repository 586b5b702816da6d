import { DEFAULT_AUTHENTICATOR_LABEL, mintAuthenticatorId } from '../../domain/authenticators.js';
import type { Clock, RandomBytes } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import { ALL_QR_FORMATS, renderQrCodes, type QrCodes, type QrFormat } from '../../domain/qr-code.js';
import { type SecretBox, totpSecretContext } from '../../domain/secret-box.js';
import { encodeSecret, otpauthUri, TOTP_SECRET_BYTES } from '../../domain/totp.js';
import type { FactorStore, PendingEnrollment, PendingEnrollmentStore } from '../../stores/ports/index.js';
import { alreadyEnabled, authenticatorLimit, enrollmentNotFound } from './enrollment-errors.js';

export interface BeginEnrollment {
  readonly userId: string;
  /** Empty means userId. */
  readonly accountName: string;
  /** Empty means the configured issuer. */
  readonly issuer: string;
  /** Empty means "Authenticator app". */
  readonly authenticatorLabel: string;
  /** An additional authenticator for a user with MFA on. */
  readonly addAuthenticator: boolean;
  /** The QR code renderings to make; absent means all of them. */
  readonly qrFormats?: ReadonlySet<QrFormat>;
}

export interface BegunEnrollment {
  readonly enrollmentId: string;
  readonly authenticatorId: string;
  readonly secret: string;
  readonly otpauthUri: string;
  readonly qrCodes: QrCodes;
  readonly expiresAt: Date;
}

/**
 * Starting and cancelling the enrollment of an authenticator app: a fresh
 * secret and its QR codes, pending in Redis for the enrollment TTL.
 * (ConfirmationService confirms it.)
 */
export class EnrollmentService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly box: SecretBox;
      readonly clock: Clock;
      readonly random: RandomBytes;
      readonly issuer: string;
      readonly enrollmentTtlMs: number;
      readonly maxAuthenticators: number;
      /** Finishes a recorded first confirmation (ConfirmationService.finish). */
      readonly finishConfirmation: (pending: PendingEnrollment) => Promise<boolean>;
    },
  ) {}

  /**
   * `options.refreshing`: the id of the enrollment a watch replaces because it
   * expired; if a Confirm of it got in first, it is kept, and the answer is
   * MFA_ALREADY_ENABLED even when adding an authenticator (the watch then
   * waits for that Confirm).
   */
  async begin(request: BeginEnrollment, options: { readonly refreshing?: string } = {}): Promise<BegunEnrollment> {
    const { userId, addAuthenticator } = request;
    const record = await this.deps.factors.get(userId);
    if (addAuthenticator) {
      if (!record?.enabled) throw new MfaError(ErrorReason.MFA_NOT_ENABLED, 'MFA is not enabled for this user: enroll without add_authenticator');
      if (record.authenticators.length >= this.deps.maxAuthenticators) throw authenticatorLimit(this.deps.maxAuthenticators);
    } else if (record?.enabled) {
      throw alreadyEnabled();
    }
    const secretBytes = this.deps.random(TOTP_SECRET_BYTES);
    const secret = encodeSecret(secretBytes);
    const uri = otpauthUri({
      issuer: request.issuer || this.deps.issuer,
      accountName: request.accountName || userId,
      secret,
    });
    if (uri.length > MAX_URI_LENGTH) {
      // Percent-encoding can make a short name long (an emoji is 12 characters): keep the QR code scannable.
      throw new MfaError(ErrorReason.INVALID_REQUEST, 'invalid request: account_name, issuer', {
        fieldViolations: [
          { field: 'account_name', description: `with the issuer, too long for a QR code once URL-encoded (at most ${MAX_URI_LENGTH} characters of URI); user_id is used when it is empty` },
          { field: 'issuer', description: 'counts twice towards the same limit' },
        ],
      });
    }
    const qrCodes = renderQrCodes(uri, request.qrFormats ?? ALL_QR_FORMATS);
    const expiresAt = new Date(this.deps.clock.now().getTime() + this.deps.enrollmentTtlMs);
    const enrollmentId = `enr_${this.deps.random(12).toString('base64url')}`;
    const authenticatorId = mintAuthenticatorId(this.deps.random);
    const enrollment: PendingEnrollment = {
      enrollmentId,
      userId,
      authenticatorId,
      label: request.authenticatorLabel || DEFAULT_AUTHENTICATOR_LABEL,
      adding: addAuthenticator,
      sealedSecret: this.deps.box.seal(secretBytes, totpSecretContext(userId, authenticatorId)),
      expiresAt,
    };
    // With MFA on already, a new enrollment may end the previous one's window for Confirm retries.
    const replace = { replaceConfirmed: addAuthenticator, keepConfirmedId: options.refreshing };
    if (!(await this.deps.pending.put(enrollment, replace))) {
      // Refused: a confirmed enrollment holds the place. Adding, that is one being watched (its watch waits for it).
      if (addAuthenticator) throw alreadyEnabled();
      await this.#settleConfirmed(userId);
      if (!(await this.deps.pending.put(enrollment, replace))) throw alreadyEnabled();
    }
    return { enrollmentId, authenticatorId, secret, otpauthUri: uri, qrCodes, expiresAt };
  }

  /**
   * The user's first enrollment is confirmed but MFA was off when read: a
   * Confirm is turning it on, or was cut off after recording its outcome.
   * Begin must not answer OK after MFA went on, nor leave the user stuck
   * behind a confirmation nobody finishes: it finishes it (MFA_ALREADY_ENABLED
   * then, truthfully), or discards it when the user's record changed since.
   */
  async #settleConfirmed(userId: string): Promise<void> {
    const confirmed = await this.deps.pending.get(userId);
    if (confirmed?.confirmation === undefined) return;
    if (await this.deps.finishConfirmation(confirmed)) throw alreadyEnabled();
    await this.deps.pending.discard(userId, confirmed.enrollmentId);
  }

  async cancel(request: { userId: string; enrollmentId: string }): Promise<void> {
    if (!(await this.deps.pending.remove(request.userId, request.enrollmentId))) throw enrollmentNotFound();
  }
}

/** Longest otpauth URI accepted: well inside a level-M QR code's capacity (2,331 bytes), and still easy to scan. */
export const MAX_URI_LENGTH = 1024;
