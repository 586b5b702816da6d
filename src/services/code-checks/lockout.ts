import type { Logger } from 'pino';
import { runDetached } from '../../call-scope.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { AttemptStore, FactorStore, LockoutPolicy } from '../../stores/ports/index.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';

/** A failed code check: a wrong code, or a right one whose step was already spent. */
export interface CheckFailure {
  readonly failure: typeof ErrorReason.INVALID_CODE | typeof ErrorReason.CODE_REUSED;
}

/**
 * The lockout: every MFA_MAX_FAILED_ATTEMPTS failed code checks in a row lock
 * the user out of every code check, on every instance (the count is in the
 * AttemptStore, one atomic Redis step per check). The k-th lockout in a row
 * lasts min(MFA_LOCKOUT_SECONDS × 2^(k−1), MFA_LOCKOUT_MAX_SECONDS), and no
 * quiet period forgets a failure (issue 22). Every check passes this gate
 * (CodeChecks): a pass clears the count and the lockouts in a row, a failure
 * counts, and the check that locks the user records one LOCKED_OUT security
 * event, so a brute-force run adds one event per lockout period, however many
 * codes it tries (issue 10). It holds no claim on any code: only the durable
 * spend in the FactorStore spends one.
 */
export class Lockout {
  constructor(
    private readonly deps: {
      readonly attempts: AttemptStore;
      readonly factors: FactorStore;
      readonly events: SecurityEventFactory;
      readonly logger: Logger;
      readonly policy: LockoutPolicy;
    },
  ) {}

  /** A passed check: clears the failure count, unless the user is locked out (then LOCKED_OUT). */
  async pass(userId: string): Promise<void> {
    const outcome = await this.deps.attempts.settle(userId, true, this.deps.policy);
    if (outcome.kind === 'locked') throw lockedOut(outcome.retryAfterMs);
  }

  /** A failed check: counts, and throws LOCKED_OUT when that locks the user (or it was locked), else the failure. */
  async refuse(userId: string, failure: CheckFailure['failure']): Promise<never> {
    const outcome = await this.deps.attempts.settle(userId, false, this.deps.policy);
    if (outcome.kind === 'locked') {
      if (outcome.failures > 0) await this.#recordLockout(userId, outcome.failures);
      throw lockedOut(outcome.retryAfterMs);
    }
    throw failure === ErrorReason.CODE_REUSED
      ? new MfaError(failure, 'this code was already used; wait for the next one')
      : new MfaError(failure, 'the code is not valid');
  }

  /** Throws LOCKED_OUT while the user is locked out; neither clears nor counts anything. */
  async throwIfLocked(userId: string): Promise<void> {
    const lockedMs = await this.deps.attempts.lockoutRemainingMs(userId);
    if (lockedMs > 0) throw lockedOut(lockedMs);
  }

  /** True when the user is not locked out and has no failures nor lockouts in a row counted (a pass would have nothing to clear). */
  async isClear(userId: string): Promise<boolean> {
    const standing = await this.deps.attempts.standing(userId);
    return !(standing.lockedMs > 0 || standing.failures > 0 || standing.lockouts > 0);
  }

  /**
   * The lockout's state is in Redis, so its event cannot commit in the same
   * write: it is written just after. If MongoDB fails then, the event is lost
   * (logged as an error) and the caller still gets LOCKED_OUT.
   */
  async #recordLockout(userId: string, failedAttempts: number): Promise<void> {
    try {
      const event = this.deps.events.make(userId, 'LOCKED_OUT', { failedAttempts });
      // Also when the call was cut off just now: the lockout happened all the same.
      await runDetached(() => this.deps.factors.recordEvents(userId, [event]));
    } catch (error) {
      this.deps.logger.error({ err: error, userId }, 'the LOCKED_OUT security event was not recorded');
    }
  }
}

function lockedOut(retryAfterMs: number): MfaError {
  return new MfaError(ErrorReason.LOCKED_OUT, 'too many failed code checks; try again later', { retryAfterMs });
}
