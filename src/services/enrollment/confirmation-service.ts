import type { Logger } from 'pino';
import { runDetached } from '../../call-scope.js';
import type { Clock } from '../../domain/clock.js';
import { ErrorReason, hasReason, MfaError } from '../../domain/errors.js';
import type { RecoveryCodes } from '../../domain/recovery-codes.js';
import { confirmationContext, type SecretBox, totpSecretContext } from '../../domain/secret-box.js';
import { isTotpAtStep, matchTotp } from '../../domain/totp.js';
import type { RecoveryCodeSet } from '../../domain/recovery-codes.js';
import type {
  AuthenticatorRecord,
  Notifier,
  EnrollmentConfirmation,
  FactorRecord,
  FactorStore,
  PendingEnrollment,
  PendingEnrollmentStore,
} from '../../stores/ports/index.js';
import type { CodeChecks, CodeOrAssertion } from '../code-checks/code-checks.js';
import type { AssertionInput } from '../webauthn/assertion-checks.js';
import { NO_FAILURES } from '../../stores/ports/index.js';
import { enabledRecordForWrite } from '../code-checks/enabled-record.js';
import { alreadyEnabled, authenticatorLimit, enrollmentNotFound, existingProofRequired, proofViolation } from './enrollment-errors.js';
import { sameCodes } from './same-codes.js';
import type { SessionService } from '../sessions/session-service.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import { spendOnCurrent } from '../code-checks/spend-on-current.js';

export interface ConfirmEnrollment {
  readonly userId: string;
  readonly enrollmentId: string;
  /** A code of the authenticator being enrolled. */
  readonly code: string;
  /** Adding an authenticator: a code of one the user has, or a recovery code. Empty otherwise. */
  readonly existingCode: string;
  /** Adding an authenticator, instead of existingCode: an assertion of one of the user's security keys. */
  readonly existingAssertion?: AssertionInput | null;
}

export interface ConfirmedEnrollment {
  readonly authenticatorId: string;
  /** When MFA was turned on (by this enrollment, or earlier when adding an authenticator). */
  readonly enabledAt: Date;
  /** Issued when MFA is turned on; empty when an authenticator is added. */
  readonly recoveryCodes: string[];
  /** Null when an authenticator is added: no sessions are revoked. */
  readonly sessionsRevokedAt: Date | null;
}

/**
 * ConfirmTotpEnrollment: the first code of a pending enrollment turns MFA on
 * (recovery codes, sessions revoked, devices forgotten), or adds an
 * authenticator to a user with MFA on (with a code of an existing one).
 *
 * The outcome (the step, enabled_at, the recovery codes) is fixed in the
 * pending enrollment before the durable write, and the enrollment is kept
 * (confirmed) until at least one enrollment TTL later. So Confirm is
 * idempotent: a retry with the same enrollment_id and code after a success
 * the caller did not see, or after a crash at any point, finishes the same
 * way and answers the same.
 *
 * Each success is announced to every instance (Notifier), so
 * that a WatchTotpEnrollment stream of the user ends at once.
 */
export class ConfirmationService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly codeChecks: CodeChecks;
      readonly sessions: SessionService;
      readonly box: SecretBox;
      readonly recoveryCodes: RecoveryCodes;
      readonly clock: Clock;
      readonly enrollmentTtlMs: number;
      readonly maxAuthenticators: number;
      readonly confirmations: Notifier;
      readonly events: SecurityEventFactory;
      readonly logger: Logger;
    },
  ) {}

  async confirm(request: ConfirmEnrollment): Promise<ConfirmedEnrollment> {
    const confirmed = await this.#confirm(request);
    await this.#announce(request.userId, request.enrollmentId);
    return confirmed;
  }

  /**
   * Best effort, after the durable write: a watching stream reads the stores
   * when woken and at its enrollment's expiry anyway, so a lost notice only
   * delays it. Runs also when the call was cut off just now: the confirmation
   * happened all the same.
   */
  async #announce(userId: string, enrollmentId: string): Promise<void> {
    await runDetached(() => this.deps.confirmations.publish(userId, enrollmentId)).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, userId }, 'could not announce a confirmation; watching streams learn of it at their next check'),
    );
  }

  async #confirm(request: ConfirmEnrollment): Promise<ConfirmedEnrollment> {
    const { userId, enrollmentId, code } = request;
    const [record, pending] = await Promise.all([this.deps.factors.get(userId), this.deps.pending.get(userId)]);
    if (pending === null || pending.enrollmentId !== enrollmentId) {
      throw record?.enabled && request.existingCode === '' && !request.existingAssertion ? alreadyEnabled() : enrollmentNotFound();
    }
    const secret = this.deps.box.open(pending.sealedSecret, totpSecretContext(userId, pending.authenticatorId));
    const prior = pending.confirmation;
    const isRetry = prior !== undefined && isTotpAtStep(secret, code, prior.timeStep);
    if (prior !== undefined && record?.enabled && holds(record, pending)) {
      // Durable already: only a retry with the confirming code gets the answer again, and only while it is
      // still true (RegenerateRecoveryCodes has not replaced the codes). An answer given again is not a check.
      if (!isRetry || (!pending.adding && !sameCodes(record, this.#codeSet(pending, prior)))) {
        throw pending.adding ? confirmedAlready() : alreadyEnabled();
      }
      return this.deps.codeChecks.replay(userId, () => this.#answer(pending, prior, record.enabledAt!));
    }
    const now = this.deps.clock.now();
    const timeStep = isRetry ? prior.timeStep : matchTotp(secret, code, now);
    if (!pending.adding) {
      if (request.existingCode !== '') throw existingCodeViolation('must be empty when enrolling the first authenticator');
      if (request.existingAssertion) throw proofViolation('webauthn_assertion', 'must be unset when enrolling the first authenticator');
      if (record?.enabled) throw alreadyEnabled();
      const check = timeStep === null ? { failure: ErrorReason.INVALID_CODE } : { authenticatorId: pending.authenticatorId, timeStep };
      return this.deps.codeChecks.spend(record ?? { userId, enabled: false, failures: NO_FAILURES, version: 0 }, check, async () => {
        const confirmation = await this.#fix(pending, timeStep!, now, record?.version ?? 0);
        return this.#turnOn(pending, confirmation, timeStep!);
      });
    }
    if (request.existingCode === '' && !request.existingAssertion) throw existingProofRequired();
    return this.#add(pending, timeStep, { code: request.existingCode, assertion: request.existingAssertion ?? null }, now);
  }

  /**
   * Finishes a confirmation that was recorded but whose durable write did not
   * happen (the call was cut off, the instance died): BeginTotpEnrollment
   * calls it on finding one, since a recorded confirmation is a commitment.
   * True when MFA is now on with it; false when it was superseded (the
   * user's record changed since), and must be discarded.
   */
  async finish(pending: PendingEnrollment): Promise<boolean> {
    if (pending.confirmation === undefined || pending.adding) return false;
    try {
      await this.#turnOn(pending, pending.confirmation, pending.confirmation.timeStep);
      await this.#announce(pending.userId, pending.enrollmentId);
      return true;
    } catch (error) {
      if (hasReason(error, ErrorReason.ENROLLMENT_NOT_FOUND)) return false;
      throw error;
    }
  }

  /**
   * The first authenticator: one durable write turns MFA on, stores the
   * authenticator (its step spent: the confirming one, or a retry's newer
   * one) and the code hashes, and forgets every device; only if the user's
   * record is still the version the confirmation was fixed on.
   */
  async #turnOn(pending: PendingEnrollment, confirmation: EnrollmentConfirmation, timeStep: number): Promise<ConfirmedEnrollment> {
    const { userId } = pending;
    const answer = this.#answer(pending, confirmation, confirmation.enabledAt);
    const recoveryCodes = this.#codeSet(pending, confirmation);
    await this.deps.sessions.announce(userId, confirmation.enabledAt);
    const enabled = await this.deps.factors.enable(userId, {
      authenticator: this.#authenticator(pending, confirmation, timeStep),
      enabledAt: confirmation.enabledAt,
      recoveryCodes,
      sessionsRevokedAt: confirmation.enabledAt,
      ifVersion: confirmation.recordVersion,
      events: [this.deps.events.make(userId, 'MFA_ENABLED', { authenticatorId: pending.authenticatorId, authenticatorKind: 'totp' })],
    });
    if (enabled) return answer;
    // Not enabled by this write: a concurrent finish of this same confirmation did it (same answer), or
    // something else did, or the record changed since the confirmation was fixed (it is superseded).
    const current = await this.deps.factors.get(userId);
    if (current?.enabled && holds(current, pending) && sameCodes(current, recoveryCodes)) return answer;
    if (current?.enabled) throw alreadyEnabled();
    await this.deps.pending.discard(userId, pending.enrollmentId);
    throw enrollmentNotFound('it was superseded: the user\'s MFA state changed before it was turned on; begin again');
  }

  /** An additional authenticator: spends the existing code and adds it in one durable write. */
  async #add(pending: PendingEnrollment, timeStep: number | null, existingProof: CodeOrAssertion, now: Date): Promise<ConfirmedEnrollment> {
    const { userId } = pending;
    const record = await enabledRecordForWrite(this.deps.factors, userId);
    const { codeChecks } = this.deps;
    const existing = await codeChecks.given(record, existingProof, now);
    // Both codes are checked; one call counts as one failure whichever is wrong.
    const check = timeStep === null ? { failure: ErrorReason.INVALID_CODE } : existing;
    return codeChecks.spend(record, check, async (proof) => {
      if (record.authenticators.length >= this.deps.maxAuthenticators) throw authenticatorLimit(this.deps.maxAuthenticators);
      const confirmation = await this.#fix(pending, timeStep!, now, record.version);
      const authenticator = this.#authenticator(pending, confirmation, timeStep!);
      const spent = await spendOnCurrent(this.deps, proof, record, (current) => {
        if (current.authenticators.length >= this.deps.maxAuthenticators) throw authenticatorLimit(this.deps.maxAuthenticators);
        const events = [this.deps.events.make(userId, 'AUTHENTICATOR_ADDED', { authenticatorId: authenticator.authenticatorId, authenticatorKind: 'totp' })];
        return { change: { addAuthenticator: authenticator, usedAt: now, events }, result: null };
      });
      return spent && this.#answer(pending, confirmation, record.enabledAt!);
    });
  }

  /** Records the confirmation in the pending enrollment, once: the first recorded is the one every retry finishes. */
  async #fix(pending: PendingEnrollment, timeStep: number, now: Date, recordVersion: number): Promise<EnrollmentConfirmation> {
    const proposed = pending.confirmation ?? this.#propose(pending, timeStep, now, recordVersion);
    const keepUntil = new Date(now.getTime() + this.deps.enrollmentTtlMs);
    const confirmed = await this.deps.pending.confirm(pending.userId, pending.enrollmentId, proposed, keepUntil);
    if (confirmed?.confirmation === undefined) throw enrollmentNotFound();
    return confirmed.confirmation;
  }

  #propose(pending: PendingEnrollment, timeStep: number, now: Date, recordVersion: number): EnrollmentConfirmation {
    if (pending.adding) return { timeStep, enabledAt: now, sealedRecoveryCodes: '', recordVersion };
    const issued = this.deps.recoveryCodes.issue(pending.userId);
    const plain = Buffer.from(JSON.stringify({ keyId: issued.set.keyId, codes: issued.codes }));
    const sealed = this.deps.box.seal(plain, confirmationContext(pending.userId, pending.enrollmentId));
    return { timeStep, enabledAt: now, sealedRecoveryCodes: sealed, recordVersion };
  }

  #authenticator(pending: PendingEnrollment, confirmation: EnrollmentConfirmation, timeStep: number): AuthenticatorRecord {
    return {
      authenticatorId: pending.authenticatorId,
      label: pending.label,
      sealedSecret: pending.sealedSecret,
      lastTimeStep: Math.max(confirmation.timeStep, timeStep),
      createdAt: confirmation.enabledAt,
      lastUsedAt: null,
    };
  }

  #codes(pending: PendingEnrollment, confirmation: EnrollmentConfirmation): { keyId: string; codes: string[] } {
    const opened = this.deps.box.open(confirmation.sealedRecoveryCodes, confirmationContext(pending.userId, pending.enrollmentId));
    return JSON.parse(opened.toString('utf8')) as { keyId: string; codes: string[] };
  }

  #codeSet(pending: PendingEnrollment, confirmation: EnrollmentConfirmation): RecoveryCodeSet {
    const { keyId, codes } = this.#codes(pending, confirmation);
    return this.deps.recoveryCodes.setOf(pending.userId, keyId, codes);
  }

  /** The response a confirmation gives, every time. */
  #answer(pending: PendingEnrollment, confirmation: EnrollmentConfirmation, enabledAt: Date): ConfirmedEnrollment {
    const { authenticatorId } = pending;
    if (pending.adding) return { authenticatorId, enabledAt, recoveryCodes: [], sessionsRevokedAt: null };
    const { codes } = this.#codes(pending, confirmation);
    return { authenticatorId, enabledAt: confirmation.enabledAt, recoveryCodes: codes, sessionsRevokedAt: confirmation.enabledAt };
  }
}

/** Whether the record has this enrollment's authenticator, durably: the confirmation went through. */
function holds(record: FactorRecord, pending: PendingEnrollment): boolean {
  return record.authenticators.some((a) => a.authenticatorId === pending.authenticatorId && 'sealedSecret' in a && a.sealedSecret === pending.sealedSecret);
}

function existingCodeViolation(description: string): MfaError {
  return proofViolation('existing_code', description);
}

function confirmedAlready(): MfaError {
  return new MfaError(ErrorReason.ENROLLMENT_NOT_FOUND, 'this enrollment was confirmed already; a retry must repeat its code');
}
