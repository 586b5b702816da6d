import type { Clock, RandomBytes } from '../domain/clock.js';
import { ErrorReason, MfaError } from '../domain/errors.js';
import { renderQrCodes, type QrCodes } from '../domain/qr-code.js';
import type { RecoveryCodes } from '../domain/recovery-codes.js';
import { confirmationContext, type SecretBox, totpSecretContext } from '../domain/secret-box.js';
import { encodeSecret, isTotpAtStep, matchTotp, otpauthUri, TOTP_SECRET_BYTES } from '../domain/totp.js';
import type { EnrollmentConfirmation, FactorStore, PendingEnrollmentStore } from '../stores/ports.js';
import type { CodeChecks } from './code-checks.js';
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
      readonly codeChecks: CodeChecks;
      readonly sessions: SessionService;
      readonly box: SecretBox;
      readonly recoveryCodes: RecoveryCodes;
      readonly clock: Clock;
      readonly random: RandomBytes;
      readonly issuer: string;
      readonly enrollmentTtlMs: number;
    },
  ) {}

  async begin(request: BeginEnrollment): Promise<BegunEnrollment> {
    const { userId } = request;
    if ((await this.deps.factors.get(userId))?.enabled) throw alreadyEnabled();
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
    const put = await this.deps.pending.put({
      enrollmentId,
      userId,
      sealedSecret: this.deps.box.seal(secretBytes, totpSecretContext(userId)),
      expiresAt,
    });
    // A confirmed enrollment is turning MFA on (or just did, after the read above): Begin must not answer OK.
    if (!put) throw alreadyEnabled();
    return { enrollmentId, secret, otpauthUri: uri, qrCodes, expiresAt };
  }

  /**
   * Confirms with the first code from the app. The outcome (enabledAt, the
   * recovery codes) is fixed in the pending enrollment before MFA is turned
   * on durably, and the enrollment is kept (confirmed) until at least one
   * enrollment TTL later. So Confirm is idempotent: a retry with the same
   * enrollment_id and code after a success the caller did not see, or after
   * a crash at any point, finishes the same way and answers the same.
   */
  async confirm(request: { userId: string; enrollmentId: string; code: string }): Promise<ConfirmedEnrollment> {
    const { userId, enrollmentId, code } = request;
    const [record, pending] = await Promise.all([this.deps.factors.get(userId), this.deps.pending.get(userId)]);
    if (pending === null || pending.enrollmentId !== enrollmentId) throw record?.enabled ? alreadyEnabled() : enrollmentNotFound();
    const secret = this.deps.box.open(pending.sealedSecret, totpSecretContext(userId));
    const prior = pending.confirmation;
    const isRetry = prior !== undefined && isTotpAtStep(secret, code, prior.timeStep);
    if (record?.enabled) {
      // Only this enrollment's own confirmation, repeated with its code, gets its answer again.
      if (!isRetry || record.sealedSecret !== pending.sealedSecret) throw alreadyEnabled();
      return this.deps.codeChecks.spend(userId, { timeStep: prior.timeStep }, async () => this.#answer(userId, enrollmentId, prior).confirmed);
    }
    const now = this.deps.clock.now();
    const timeStep = isRetry ? prior.timeStep : matchTotp(secret, code, now);
    const check = timeStep === null ? { failure: ErrorReason.INVALID_CODE } : { timeStep };
    return this.deps.codeChecks.spend(userId, check, async (proof) => {
      const step = (proof as { timeStep: number }).timeStep;
      const proposed = prior ?? this.#confirmation(userId, enrollmentId, step, now);
      // Fixed before MFA goes on (durable record first, nothing removed): a crash after this point is finished by a retry.
      const keepUntil = new Date(now.getTime() + this.deps.enrollmentTtlMs);
      const confirmed = await this.deps.pending.confirm(userId, enrollmentId, proposed, keepUntil);
      if (confirmed?.confirmation === undefined) throw enrollmentNotFound();
      // Of concurrent confirms of one enrollment, the first to record its confirmation sets the answer for all.
      const { confirmation } = confirmed;
      const answer = this.#answer(userId, enrollmentId, confirmation);
      await this.deps.sessions.announce(userId, confirmation.enabledAt);
      // The commit point: one document write turns MFA on, stores the secret and code hashes, spends
      // the confirming step (and a retry's newer one) and forgets every remembered device.
      const enabled = await this.deps.factors.enable(userId, {
        sealedSecret: pending.sealedSecret,
        enabledAt: confirmation.enabledAt,
        timeStep: Math.max(confirmation.timeStep, step),
        recoveryCodes: answer.set,
        sessionsRevokedAt: confirmation.enabledAt,
      });
      if (!enabled && (await this.deps.factors.get(userId))?.sealedSecret !== pending.sealedSecret) throw alreadyEnabled();
      return answer.confirmed;
    });
  }

  /** Issues the recovery codes of a confirmation and seals them for its retries. */
  #confirmation(userId: string, enrollmentId: string, timeStep: number, now: Date): EnrollmentConfirmation {
    const issued = this.deps.recoveryCodes.issue(userId);
    const sealed = this.deps.box.seal(
      Buffer.from(JSON.stringify({ keyId: issued.set.keyId, codes: issued.codes })),
      confirmationContext(userId, enrollmentId),
    );
    return { timeStep, enabledAt: now, sealedRecoveryCodes: sealed };
  }

  /** The response a confirmation gives, every time, and the code set it stores. */
  #answer(userId: string, enrollmentId: string, confirmation: EnrollmentConfirmation) {
    const opened = this.deps.box.open(confirmation.sealedRecoveryCodes, confirmationContext(userId, enrollmentId));
    const { keyId, codes } = JSON.parse(opened.toString('utf8')) as { keyId: string; codes: string[] };
    const { enabledAt } = confirmation;
    return {
      set: this.deps.recoveryCodes.setOf(userId, keyId, codes),
      confirmed: { enabledAt, recoveryCodes: codes, sessionsRevokedAt: enabledAt },
    };
  }

  async cancel(request: { userId: string; enrollmentId: string }): Promise<void> {
    if (!(await this.deps.pending.remove(request.userId, request.enrollmentId))) throw enrollmentNotFound();
  }
}

/** Longest otpauth URI accepted: well inside a level-M QR code's capacity (2,331 bytes), and still easy to scan. */
export const MAX_URI_LENGTH = 1024;

function alreadyEnabled(): MfaError {
  return new MfaError(ErrorReason.MFA_ALREADY_ENABLED, 'MFA is already enabled for this user');
}

function enrollmentNotFound(): MfaError {
  return new MfaError(
    ErrorReason.ENROLLMENT_NOT_FOUND,
    'no such pending enrollment for this user: it expired, was replaced or cancelled, or never existed',
  );
}
