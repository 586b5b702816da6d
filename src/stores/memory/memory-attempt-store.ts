import type { Clock } from '../../domain/clock.js';
import type { AttemptOutcome, AttemptStore, LockoutPolicy } from '../ports.js';

interface UserAttempts {
  failures: number;
  /** Failures are forgotten after a quiet lockout period, as in the Redis adapter. */
  failuresExpireAt: number;
  lockedUntil: number;
}

/** In-process AttemptStore with the same rules as the Redis script. */
export class MemoryAttemptStore implements AttemptStore {
  readonly #users = new Map<string, UserAttempts>();

  constructor(private readonly clock: Clock) {}

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const now = this.clock.now().getTime();
    const user = this.#user(userId, now);
    if (user.lockedUntil > now) return { kind: 'locked', retryAfterMs: user.lockedUntil - now, failures: user.failures };
    if (passed) {
      user.failures = 0;
      return { kind: 'accepted' };
    }
    user.failures += 1;
    if (user.failures >= policy.maxFailures) {
      const failures = user.failures;
      user.failures = 0;
      user.lockedUntil = now + policy.lockoutMs;
      return { kind: 'locked', retryAfterMs: policy.lockoutMs, failures };
    }
    user.failuresExpireAt = now + policy.lockoutMs;
    return { kind: 'rejected', failures: user.failures };
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const now = this.clock.now().getTime();
    return Math.max(0, this.#user(userId, now).lockedUntil - now);
  }

  async standing(userId: string): Promise<{ lockedMs: number; failures: number }> {
    const now = this.clock.now().getTime();
    const user = this.#user(userId, now);
    return { lockedMs: Math.max(0, user.lockedUntil - now), failures: user.failures };
  }

  #user(userId: string, now: number): UserAttempts {
    let user = this.#users.get(userId);
    if (user === undefined) {
      user = { failures: 0, failuresExpireAt: 0, lockedUntil: 0 };
      this.#users.set(userId, user);
    }
    if (user.failuresExpireAt <= now) user.failures = 0;
    return user;
  }
}
