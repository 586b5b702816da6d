import { ErrorReason, MfaError } from '../domain/errors.js';
import type { AttemptStore, LockoutPolicy } from '../stores/ports.js';

/**
 * Settles every code check (Confirm, VerifyTotp, VerifyRecoveryCode, DisableMfa,
 * RegenerateRecoveryCodes) against the user's shared failure counter, so that
 * `maxFailures` consecutive failures on any instance lock the user out.
 */
export class AttemptGuard {
  constructor(
    private readonly deps: { readonly attempts: AttemptStore; readonly policy: LockoutPolicy },
  ) {}

  /** Records a passed check. Throws LOCKED_OUT when the user is locked: a right code does not end a lockout. */
  async accept(userId: string): Promise<void> {
    const outcome = await this.deps.attempts.settle(userId, true, this.deps.policy);
    if (outcome.kind === 'locked') throw lockedOut(outcome.retryAfterMs);
  }

  /** Records a failed check and throws: LOCKED_OUT when this failure locks (or the user was locked), else `reason`. */
  async reject(userId: string, reason: ErrorReason): Promise<never> {
    const outcome = await this.deps.attempts.settle(userId, false, this.deps.policy);
    if (outcome.kind === 'locked') throw lockedOut(outcome.retryAfterMs);
    throw reason === ErrorReason.CODE_REUSED
      ? new MfaError(reason, 'this code was already used; wait for the next one')
      : new MfaError(reason, 'the code is not valid');
  }

  /** Settles a check result: returns its proof when it passed, else records the failure and throws. */
  async settle<P>(userId: string, result: P | { readonly failure: ErrorReason }): Promise<P> {
    if (typeof result === 'object' && result !== null && 'failure' in result) return this.reject(userId, result.failure);
    await this.accept(userId);
    return result as P;
  }
}

function lockedOut(retryAfterMs: number): MfaError {
  return new MfaError(ErrorReason.LOCKED_OUT, 'too many failed code checks; try again later', { retryAfterMs });
}
