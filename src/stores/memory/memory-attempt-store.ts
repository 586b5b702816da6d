import type { Clock } from '../../domain/clock.js';
import type { AttemptOutcome, AttemptStore, LockoutPolicy } from '../ports.js';

interface Counter {
  failures: number;
  /** Failures are forgotten after a quiet lockout period, as in the Redis adapter. */
  failuresExpireAt: number;
  lockedUntil: number;
}

/** In-process AttemptStore with the same rules as the Redis script. */
export class MemoryAttemptStore implements AttemptStore {
  readonly #counters = new Map<string, Counter>();

  constructor(private readonly clock: Clock) {}

  async settle(userId: string, success: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const now = this.clock.now().getTime();
    const counter = this.#current(userId, now);
    if (counter.lockedUntil > now) return { kind: 'locked', retryAfterMs: counter.lockedUntil - now };
    if (success) {
      this.#counters.delete(userId);
      return { kind: 'accepted' };
    }
    const failures = counter.failures + 1;
    if (failures >= policy.maxFailures) {
      this.#counters.set(userId, { failures: 0, failuresExpireAt: 0, lockedUntil: now + policy.lockoutMs });
      return { kind: 'locked', retryAfterMs: policy.lockoutMs };
    }
    this.#counters.set(userId, { failures, failuresExpireAt: now + policy.lockoutMs, lockedUntil: 0 });
    return { kind: 'rejected', failures };
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const now = this.clock.now().getTime();
    return Math.max(0, this.#current(userId, now).lockedUntil - now);
  }

  #current(userId: string, now: number): Counter {
    const counter = this.#counters.get(userId);
    if (counter === undefined) return { failures: 0, failuresExpireAt: 0, lockedUntil: 0 };
    return { ...counter, failures: counter.failuresExpireAt > now ? counter.failures : 0 };
  }
}
