import type { Clock } from '../../domain/clock.js';
import { lockoutDurationMs } from '../../domain/lockout-duration.js';
import type { AttemptOutcome, AttemptStanding, AttemptStore, LockoutPolicy } from '../ports/index.js';

interface UserAttempts {
  failures: number;
  lockouts: number;
  lockedUntil: number;
}

/**
 * In-process AttemptStore with the same rules as the Redis script. A user's
 * entry lives while it holds a failure count, a lockout or lockouts in a row,
 * none of which expires but the lockout itself (issue 22), as the Redis keys
 * do; a pass or clear() removes it, and reads create nothing.
 */
export class MemoryAttemptStore implements AttemptStore {
  readonly #users = new Map<string, UserAttempts>();

  constructor(private readonly clock: Clock) {}

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const now = this.clock.now().getTime();
    const user = this.#user(userId);
    if (user.lockedUntil > now) return { kind: 'locked', retryAfterMs: user.lockedUntil - now, failures: 0 };
    if (passed) {
      this.#users.delete(userId);
      return { kind: 'accepted' };
    }
    user.failures += 1;
    let outcome: AttemptOutcome;
    if (user.failures >= policy.maxFailures) {
      user.lockouts += 1;
      const lockoutMs = lockoutDurationMs(policy, user.lockouts);
      outcome = { kind: 'locked', retryAfterMs: lockoutMs, failures: user.failures };
      user.failures = 0;
      user.lockedUntil = now + lockoutMs;
    } else {
      outcome = { kind: 'rejected', failures: user.failures };
    }
    this.#users.set(userId, user);
    return outcome;
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    return (await this.standing(userId)).lockedMs;
  }

  async standing(userId: string): Promise<AttemptStanding> {
    const { failures, lockouts, lockedUntil } = this.#user(userId);
    return { lockedMs: Math.max(0, lockedUntil - this.clock.now().getTime()), failures, lockouts };
  }

  async clear(userId: string): Promise<void> {
    this.#users.delete(userId);
  }

  /** How many users' entries are held (tests). */
  get held(): number {
    return this.#users.size;
  }

  /** A copy of the user's entry (a fresh one when none is kept); reading it stores nothing. */
  #user(userId: string): UserAttempts {
    const kept = this.#users.get(userId);
    return kept === undefined ? { failures: 0, lockouts: 0, lockedUntil: 0 } : { ...kept };
  }
}
