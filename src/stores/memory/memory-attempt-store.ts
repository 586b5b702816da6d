import type { Clock } from '../../domain/clock.js';
import type { AttemptOutcome, AttemptStore, LockoutPolicy } from '../ports/index.js';
import { ExpiringMap } from './expiring-map.js';

interface UserAttempts {
  failures: number;
  /** Failures are forgotten after a quiet lockout period, as in the Redis adapter. */
  failuresExpireAt: number;
  lockedUntil: number;
}

/**
 * In-process AttemptStore with the same rules as the Redis script. A user's
 * entry lives only while it holds a failure count or a lockout, as the
 * Redis keys do: reads create nothing.
 */
export class MemoryAttemptStore implements AttemptStore {
  readonly #users: ExpiringMap<UserAttempts>;

  constructor(private readonly clock: Clock) {
    this.#users = new ExpiringMap(clock);
  }

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const now = this.clock.now().getTime();
    const user = this.#user(userId, now);
    if (user.lockedUntil > now) return { kind: 'locked', retryAfterMs: user.lockedUntil - now, failures: user.failures };
    if (passed) {
      this.#users.delete(userId);
      return { kind: 'accepted' };
    }
    user.failures += 1;
    let outcome: AttemptOutcome;
    if (user.failures >= policy.maxFailures) {
      outcome = { kind: 'locked', retryAfterMs: policy.lockoutMs, failures: user.failures };
      user.failures = 0;
      user.lockedUntil = now + policy.lockoutMs;
    } else {
      user.failuresExpireAt = now + policy.lockoutMs;
      outcome = { kind: 'rejected', failures: user.failures };
    }
    this.#users.set(userId, user, Math.max(user.failuresExpireAt, user.lockedUntil));
    return outcome;
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

  /** How many users' entries are held, expired ones not yet removed included (tests). */
  get held(): number {
    return this.#users.held;
  }

  /** The user's entry as it stands at `now` (a fresh one when none is kept); reading it stores nothing. */
  #user(userId: string, now: number): UserAttempts {
    const kept = this.#users.get(userId);
    if (kept === undefined) return { failures: 0, failuresExpireAt: 0, lockedUntil: 0 };
    return kept.failuresExpireAt <= now ? { ...kept, failures: 0 } : { ...kept };
  }
}
