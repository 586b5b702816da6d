import { ErrorReason, MfaError } from '../domain/errors.js';
import type { AttemptStore, CodeProof, LockoutPolicy } from '../stores/ports.js';

/**
 * Settles every code check (Confirm, VerifyTotp, VerifyRecoveryCode, DisableMfa,
 * RegenerateRecoveryCodes) against the user's shared failure counter, so that
 * `maxFailures` consecutive failures on any instance lock the user out.
 */
export class AttemptGuard {
  constructor(
    private readonly deps: { readonly attempts: AttemptStore; readonly policy: LockoutPolicy },
  ) {}

  /**
   * Settles a check result: when it passed, claims its proof (once, across
   * instances) and returns it; otherwise records the failure and throws.
   * Throws LOCKED_OUT while the user is locked, even for a right code, and
   * CODE_REUSED (TOTP) or INVALID_CODE (recovery code) when the proof was claimed before.
   */
  async settle(userId: string, result: CodeProof | { readonly failure: ErrorReason }): Promise<CodeProof> {
    const proof = 'failure' in result ? null : result;
    const outcome = await this.deps.attempts.settle(userId, proof, this.deps.policy);
    if (outcome.kind === 'accepted') return proof!;
    if (outcome.kind === 'locked') throw lockedOut(outcome.retryAfterMs);
    if ('failure' in result) throw codeFailure(result.failure);
    throw codeFailure('timeStep' in result ? ErrorReason.CODE_REUSED : ErrorReason.INVALID_CODE);
  }

  /**
   * Runs the durable write that spends a claimed proof; when it fails, a
   * claimed recovery code is released (best effort) so it is not lost.
   */
  async commit<T>(userId: string, proof: CodeProof, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if ('recoveryCodeHash' in proof) await this.deps.attempts.releaseRecoveryCode(userId, proof.recoveryCodeHash).catch(() => {});
      throw error;
    }
  }

  /** Records a failed check and throws (LOCKED_OUT when this failure locks the user, else `reason`). */
  async reject(userId: string, reason: ErrorReason): Promise<never> {
    return this.settle(userId, { failure: reason }) as Promise<never>;
  }
}

function codeFailure(reason: ErrorReason): MfaError {
  return reason === ErrorReason.CODE_REUSED
    ? new MfaError(reason, 'this code was already used; wait for the next one')
    : new MfaError(reason, 'the code is not valid');
}

function lockedOut(retryAfterMs: number): MfaError {
  return new MfaError(ErrorReason.LOCKED_OUT, 'too many failed code checks; try again later', { retryAfterMs });
}
