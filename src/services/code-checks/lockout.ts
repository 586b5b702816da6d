import type { Logger } from 'pino';
import { runDetached } from '../../call-scope.js';
import type { Clock } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import { lockoutDurationMs } from '../../domain/lockout-duration.js';
import type { AttemptStore, DurableFailures, FactorStore } from '../../stores/ports/index.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';

/** A failed code check: a wrong code, or a right one whose step was already spent. */
export interface CheckFailure {
  /** WEBAUTHN_INVALID: a security key's answer that is not valid; counts towards lockouts, never towards TOTP's suspension. */
  readonly failure: typeof ErrorReason.INVALID_CODE | typeof ErrorReason.CODE_REUSED | typeof ErrorReason.WEBAUTHN_INVALID;
}

/** The user a check is for, as the lockout reads it: a FactorRecord (or, before any, no failures). */
export interface CheckedUser {
  readonly userId: string;
  readonly enabled: boolean;
  readonly failures: DurableFailures;
  /** The record's version as read (0: none yet): tells a check read before a suspension from one read after a restore. */
  readonly version: number;
}

/** What the lockout reports as it happens (RpcMetrics: mfa_lockouts_started_total, mfa_totp_suspensions_total). */
export interface LockoutMeter {
  /** A failed check started a lockout. */
  lockoutStarted(): void;
  /** A failed check suspended a user's TOTP (counted once per suspension). */
  totpSuspended(): void;
}

/** Reports nothing (the service-level tests, which read the stores instead). */
export const NO_LOCKOUT_METER: LockoutMeter = { lockoutStarted: () => {}, totpSuspended: () => {} };

/** The lockout's settings (MFA_MAX_FAILED_ATTEMPTS, MFA_LOCKOUT_SECONDS, MFA_LOCKOUT_MAX_SECONDS, MFA_MAX_CONSECUTIVE_FAILURES). */
export interface LockoutSettings {
  readonly maxFailures: number;
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
  readonly maxConsecutiveFailures: number;
}

/**
 * The lockout: every MFA_MAX_FAILED_ATTEMPTS failed code checks in a row lock
 * the user out of every code check, on every instance (the count is in the
 * AttemptStore, one atomic Redis step per check). The k-th lockout in a row
 * lasts min(MFA_LOCKOUT_SECONDS × 2^(k−1), MFA_LOCKOUT_MAX_SECONDS), and no
 * quiet period forgets a failure. The failure that makes
 * MFA_MAX_CONSECUTIVE_FAILURES in a row suspends the user's TOTP
 * authenticators instead (NIST SP 800-63B-4 §3.2.2; issue 22).
 *
 * What must survive Redis is in the user's record (DurableFailures): each
 * lockout adds its count of code failures (a security key's are left out:
 * they never count towards the suspension, issue 23) and one lockout in a
 * row, in the one write that records its LOCKED_OUT event, and the
 * suspension is its own write. A
 * spent code clears them in the write that spends it. So MongoDB is written
 * once per lockout and at the suspension, never per failure, and losing
 * Redis loses at most the failures since the last lockout.
 *
 * Every check passes this gate (CodeChecks): a pass clears the count, a
 * failure counts. It holds no claim on any code: only the durable spend in
 * the FactorStore spends one.
 */
export class Lockout {
  constructor(
    private readonly deps: {
      readonly attempts: AttemptStore;
      readonly factors: FactorStore;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
      readonly logger: Logger;
      readonly meter: LockoutMeter;
      readonly settings: LockoutSettings;
    },
  ) {}

  /**
   * A passed check: clears the failure count, unless the user is locked out
   * (then LOCKED_OUT), or TOTP was suspended since `user` was read (then
   * TOTP_SUSPENDED: the durable spend would be refused, and must not be
   * counted as a replay).
   */
  async pass(user: CheckedUser, lockoutOnly = false): Promise<void> {
    const outcome = await this.deps.attempts.settle(user.userId, true, this.#policy(user, lockoutOnly));
    if (outcome.kind === 'locked') throw lockedOut(outcome.retryAfterMs);
    if (outcome.kind === 'suspended') throw totpSuspended();
  }

  /**
   * A failed check: counts, and throws TOTP_SUSPENDED when that suspends TOTP, LOCKED_OUT when it
   * locks the user (or it was locked), else the failure.
   */
  async refuse(user: CheckedUser, failure: CheckFailure['failure']): Promise<never> {
    // Guessing a signature is not possible: a security key's failure counts towards lockouts only (issue 23).
    const keyFailure = failure === ErrorReason.WEBAUTHN_INVALID;
    const outcome = await this.deps.attempts.settle(user.userId, false, { ...this.#policy(user, keyFailure), keyFailure });
    // Read before a suspension that committed since: not judged, and nothing more to write.
    if (outcome.kind === 'suspended') throw totpSuspended();
    if (outcome.kind === 'limit') {
      await this.#suspend(user, user.failures.count + outcome.failures);
      throw totpSuspended();
    }
    if (outcome.kind === 'locked') {
      if (outcome.failures > 0) {
        this.deps.meter.lockoutStarted();
        await this.#recordLockout(user.userId, outcome.failures, outcome.codeFailures);
      }
      throw lockedOut(outcome.retryAfterMs);
    }
    if (failure === ErrorReason.WEBAUTHN_INVALID) throw new MfaError(failure, "the security key's answer is not valid");
    throw failure === ErrorReason.CODE_REUSED
      ? new MfaError(failure, 'this code was already used; wait for the next one')
      : new MfaError(failure, 'the code is not valid');
  }

  /** Throws LOCKED_OUT while the user is locked out; neither clears nor counts anything. */
  async throwIfLocked(userId: string): Promise<void> {
    const lockedMs = await this.deps.attempts.lockoutRemainingMs(userId);
    if (lockedMs > 0) throw lockedOut(lockedMs);
  }

  /** True when the user is neither locked out nor has failures counted in Redis (a pass would have nothing to clear there). */
  async isClear(userId: string): Promise<boolean> {
    const standing = await this.deps.attempts.standing(userId);
    return !(standing.lockedMs > 0 || standing.failures > 0);
  }

  /** The rule for a check of `user`. */
  #policy(user: CheckedUser, lockoutOnly: boolean) {
    const { maxFailures, maxConsecutiveFailures } = this.deps.settings;
    const { failures } = user;
    const lockoutMs = lockoutDurationMs(this.deps.settings, failures.lockouts + 1);
    // Once suspended (or while MFA is off, or for a security key) failures count towards lockouts only;
    // a security key's pass, like a recovery code's, also ends a suspension's mark.
    if (lockoutOnly || !user.enabled || failures.totpSuspendedAt !== null) return { maxFailures, lockoutMs };
    return { maxFailures, lockoutMs, suspendAt: Math.max(1, maxConsecutiveFailures - failures.count), readVersion: user.version };
  }

  /**
   * Makes the suspension durable first (also when the call was cut off), then
   * forgets the Redis count it was reached with and marks the user, so that
   * checks in flight that read the user before it are not counted from zero
   * again (AttemptStore.suspended). When the write fails, the count stays at
   * the limit and the next failure tries again, so a suspension is never lost.
   */
  async #suspend(user: CheckedUser, count: number): Promise<void> {
    const { userId } = user;
    const event = this.deps.events.make(userId, 'TOTP_SUSPENDED', { failedAttempts: count });
    const suspended = await runDetached(() => this.deps.factors.suspendTotp(userId, this.deps.clock.now(), count, [event]));
    // Marks the version this check read: no check of a later record (one a recovery code restored) is refused by it.
    await runDetached(() => this.deps.attempts.suspended(userId, user.version));
    // Not by this call: a concurrent failure suspended it first (or MFA went off), and counted it.
    if (!suspended) return;
    this.deps.meter.totpSuspended();
    this.deps.logger.warn({ userId, failedAttempts: count }, 'TOTP suspended after too many failed code checks in a row');
  }

  /**
   * The lockout's state is in Redis, so its durable count and event cannot
   * commit in the same write: they are written just after. If MongoDB fails
   * then, the failures are counted again in Redis (the script cleared them
   * when it locked), so that the next failure after this lockout locks again
   * and writes them then; the event and this lockout's step of the escalation
   * are lost (logged as an error), and the caller still gets LOCKED_OUT.
   */
  async #recordLockout(userId: string, failedAttempts: number, codeFailures: number): Promise<void> {
    try {
      const event = this.deps.events.make(userId, 'LOCKED_OUT', { failedAttempts });
      // Also when the call was cut off just now: the lockout happened all the same. The durable count is
      // the code failures' only: it lowers the next suspendAt, which a security key's failures never reach.
      await runDetached(() => this.deps.factors.recordLockout(userId, codeFailures, [event]));
    } catch (error) {
      this.deps.logger.error({ err: error, userId }, 'the LOCKED_OUT security event was not recorded; its failures count again in Redis');
      await runDetached(() => this.deps.attempts.restore(userId, failedAttempts, codeFailures)).catch((restoreError: unknown) =>
        this.deps.logger.error({ err: restoreError, userId }, 'the failures of a lockout that was not recorded were lost'),
      );
    }
  }
}

function lockedOut(retryAfterMs: number): MfaError {
  return new MfaError(ErrorReason.LOCKED_OUT, 'too many failed code checks; try again later', { retryAfterMs });
}

/** TOTP_SUSPENDED: every TOTP code is refused until a recovery code passes (or ResetMfa, DisableMfa). */
export function totpSuspended(): MfaError {
  return new MfaError(
    ErrorReason.TOTP_SUSPENDED,
    'too many failed code checks in a row: codes from authenticator apps are suspended; use a recovery code',
  );
}
