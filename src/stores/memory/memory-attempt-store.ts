import type { Clock } from '../../domain/clock.js';
import { PROOF_CLAIM_TTL_MS, type AttemptOutcome, type AttemptStore, type CodeProof, type LockoutPolicy } from '../ports.js';

interface UserAttempts {
  failures: number;
  /** Failures are forgotten after a quiet lockout period, as in the Redis adapter. */
  failuresExpireAt: number;
  lockedUntil: number;
  lastStep: number;
  lastStepExpiresAt: number;
  usedCodes: Map<string, number>;
}

/** In-process AttemptStore with the same rules as the Redis script. */
export class MemoryAttemptStore implements AttemptStore {
  readonly #users = new Map<string, UserAttempts>();

  constructor(private readonly clock: Clock) {}

  async settle(userId: string, proof: CodeProof | null, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const now = this.clock.now().getTime();
    const user = this.#user(userId, now);
    if (user.lockedUntil > now) return { kind: 'locked', retryAfterMs: user.lockedUntil - now };
    const reused = proof !== null && !claim(user, proof, now);
    if (proof !== null && !reused) {
      user.failures = 0;
      return { kind: 'accepted' };
    }
    user.failures += 1;
    if (user.failures >= policy.maxFailures) {
      user.failures = 0;
      user.lockedUntil = now + policy.lockoutMs;
      return { kind: 'locked', retryAfterMs: policy.lockoutMs };
    }
    user.failuresExpireAt = now + policy.lockoutMs;
    return { kind: 'rejected', failures: user.failures, reused };
  }

  async releaseRecoveryCode(userId: string, recoveryCodeHash: string): Promise<void> {
    this.#users.get(userId)?.usedCodes.delete(recoveryCodeHash);
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const now = this.clock.now().getTime();
    return Math.max(0, this.#user(userId, now).lockedUntil - now);
  }

  #user(userId: string, now: number): UserAttempts {
    let user = this.#users.get(userId);
    if (user === undefined) {
      user = { failures: 0, failuresExpireAt: 0, lockedUntil: 0, lastStep: -1, lastStepExpiresAt: 0, usedCodes: new Map() };
      this.#users.set(userId, user);
    }
    if (user.failuresExpireAt <= now) user.failures = 0;
    if (user.lastStepExpiresAt <= now) user.lastStep = -1;
    for (const [hash, expiresAt] of user.usedCodes) if (expiresAt <= now) user.usedCodes.delete(hash);
    return user;
  }
}

function claim(user: UserAttempts, proof: CodeProof, now: number): boolean {
  if ('timeStep' in proof) {
    if (user.lastStep >= proof.timeStep && !proof.firstStep) return false;
    user.lastStep = proof.timeStep;
    user.lastStepExpiresAt = now + PROOF_CLAIM_TTL_MS;
    return true;
  }
  if (user.usedCodes.has(proof.recoveryCodeHash)) return false;
  user.usedCodes.set(proof.recoveryCodeHash, now + PROOF_CLAIM_TTL_MS);
  return true;
}
