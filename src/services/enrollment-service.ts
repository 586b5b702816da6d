import type { Logger } from 'pino';
import type { Clock, RandomBytes } from '../domain/clock.js';
import { ErrorReason, MfaError } from '../domain/errors.js';
import { renderQrCodes, type QrCodes } from '../domain/qr-code.js';
import type { RecoveryCodes } from '../domain/recovery-codes.js';
import { type SecretBox, totpSecretContext } from '../domain/secret-box.js';
import { encodeSecret, matchTotp, otpauthUri, TOTP_SECRET_BYTES } from '../domain/totp.js';
import type { FactorStore, PendingEnrollment, PendingEnrollmentStore } from '../stores/ports.js';
import type { AttemptGuard } from './attempt-guard.js';
import type { SessionService } from './session-service.js';

export interface BeginEnrollment {
  readonly userId: string;
  /** Empty means userId. */
  readonly accountName: string;
  /** Empty means the configured issuer. */
  readonly issuer: string;
}

export interface BegunEnrollment {
  readonly enrollmentId: string;
  readonly secret: string;
  readonly otpauthUri: string;
  readonly qrCodes: QrCodes;
  readonly expiresAt: Date;
}

export interface ConfirmedEnrollment {
  readonly enabledAt: Date;
  readonly recoveryCodes: string[];
  readonly sessionsRevokedAt: Date;
}

/** Enrolling an authenticator app: begin (secret + QR), confirm (first code), cancel. */
export class EnrollmentService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly guard: AttemptGuard;
      readonly sessions: SessionService;
      readonly box: SecretBox;
      readonly recoveryCodes: RecoveryCodes;
      readonly clock: Clock;
      readonly random: RandomBytes;
      readonly logger: Logger;
      readonly issuer: string;
      readonly enrollmentTtlMs: number;
    },
  ) {}

  async begin(request: BeginEnrollment): Promise<BegunEnrollment> {
    const { userId } = request;
    if ((await this.deps.factors.get(userId))?.enabled) {
      throw new MfaError(ErrorReason.MFA_ALREADY_ENABLED, 'MFA is already enabled for this user');
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
    const qrCodes = renderQrCodes(uri);
    const expiresAt = new Date(this.deps.clock.now().getTime() + this.deps.enrollmentTtlMs);
    const enrollmentId = `enr_${this.deps.random(12).toString('base64url')}`;
    await this.deps.pending.put({
      enrollmentId,
      userId,
      sealedSecret: this.deps.box.seal(secretBytes, totpSecretContext(userId)),
      expiresAt,
    });
    return { enrollmentId, secret, otpauthUri: uri, qrCodes, expiresAt };
  }

  async confirm(request: { userId: string; enrollmentId: string; code: string }): Promise<ConfirmedEnrollment> {
    const { userId, enrollmentId } = request;
    const [record, pending] = await Promise.all([this.deps.factors.get(userId), this.deps.pending.get(userId)]);
    if (record?.enabled) throw new MfaError(ErrorReason.MFA_ALREADY_ENABLED, 'MFA is already enabled for this user');
    if (pending === null || pending.enrollmentId !== enrollmentId) throw enrollmentNotFound();
    const now = this.deps.clock.now();
    const secret = this.deps.box.open(pending.sealedSecret, totpSecretContext(userId));
    const timeStep = matchTotp(secret, request.code, now);
    await this.deps.guard.settle(userId, timeStep === null ? { failure: ErrorReason.INVALID_CODE } : { timeStep, firstStep: true });
    // Taking the pending enrollment is atomic (Redis): of concurrent confirms, one goes on.
    if (!(await this.deps.pending.remove(userId, enrollmentId))) throw enrollmentNotFound();

    const issued = this.deps.recoveryCodes.issue(userId);
    try {
      await this.deps.sessions.announce(userId, now);
      // The commit point: one document write turns MFA on, stores the secret and
      // code hashes, spends this time step and forgets every remembered device.
      const enabled = await this.deps.factors.enable(userId, {
        sealedSecret: pending.sealedSecret,
        enabledAt: now,
        timeStep: timeStep!,
        recoveryCodes: issued.set,
        sessionsRevokedAt: now,
      });
      if (!enabled) throw new MfaError(ErrorReason.MFA_ALREADY_ENABLED, 'MFA is already enabled for this user');
    } catch (error) {
      await this.#restore(pending, error);
      throw error;
    }
    return { enabledAt: now, recoveryCodes: issued.codes, sessionsRevokedAt: now };
  }

  /** Puts a taken enrollment back when the commit failed, so the user can retry with the next code. */
  async #restore(pending: PendingEnrollment, cause: unknown): Promise<void> {
    if (cause instanceof MfaError && cause.reason === ErrorReason.MFA_ALREADY_ENABLED) return;
    try {
      await this.deps.pending.put(pending);
    } catch (error) {
      this.deps.logger.warn({ err: error, userId: pending.userId }, 'could not restore a pending enrollment after a failed confirm');
    }
  }

  async cancel(request: { userId: string; enrollmentId: string }): Promise<void> {
    if (!(await this.deps.pending.remove(request.userId, request.enrollmentId))) throw enrollmentNotFound();
  }
}

/** Longest otpauth URI accepted: well inside a level-M QR code's capacity (2,331 bytes), and still easy to scan. */
export const MAX_URI_LENGTH = 1024;

function enrollmentNotFound(): MfaError {
  return new MfaError(
    ErrorReason.ENROLLMENT_NOT_FOUND,
    'no such pending enrollment for this user: it expired, was replaced or cancelled, or never existed',
  );
}
