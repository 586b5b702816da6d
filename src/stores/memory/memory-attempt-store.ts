import type { Clock } from '../../domain/clock.js';
import type { AttemptOutcome, AttemptStanding, AttemptStore, LockoutPolicy } from '../ports/index.js';

interface UserAttempts {
  failures: number;
  /** Those of `failures` that were a security key's: they never count towards suspendAt. */
  keyFailures: number;
  lockedUntil: number;
  /** Until when suspended()'s mark holds (0: none), and the version it marks. */
  suspendedUntil: number;
  suspendedVersion: number;
}

/** How long suspended()'s mark lives, as in Redis. */
const SUSPENDED_MARK_MS = 86_400_000;

/**
 * In-process AttemptStore with the same rules as the Redis script. A user's
 * entry lives while it holds a failure count or a lockout; the count never
 * expires (issue 22), as the Redis key does not; a pass or clear() removes
 * it, and reads create nothing.
 */
export class MemoryAttemptStore implements AttemptStore {
  readonly #users = new Map<string, UserAttempts>();

  constructor(private readonly clock: Clock) {}

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const now = this.clock.now().getTime();
    const user = this.#user(userId);
    if (policy.suspendAt !== undefined && policy.suspendAt > 0 && user.suspendedUntil > now && (policy.readVersion ?? 0) <= user.suspendedVersion) {
      return { kind: 'suspended' };
    }
    if (user.lockedUntil > now) return { kind: 'locked', retryAfterMs: user.lockedUntil - now, failures: 0, codeFailures: 0 };
    if (passed) {
      this.#users.delete(userId);
      return { kind: 'accepted' };
    }
    user.failures += 1;
    if (policy.keyFailure === true) user.keyFailures += 1;
    const codeFailures = user.failures - user.keyFailures;
    let outcome: AttemptOutcome;
    if (policy.suspendAt !== undefined && policy.suspendAt > 0 && codeFailures >= policy.suspendAt) {
      outcome = { kind: 'limit', failures: codeFailures };
    } else if (user.failures >= policy.maxFailures) {
      outcome = { kind: 'locked', retryAfterMs: policy.lockoutMs, failures: user.failures, codeFailures };
      user.failures = 0;
      user.keyFailures = 0;
      user.lockedUntil = now + policy.lockoutMs;
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
    const { failures, lockedUntil } = this.#user(userId);
    return { lockedMs: Math.max(0, lockedUntil - this.clock.now().getTime()), failures };
  }

  async clear(userId: string): Promise<void> {
    this.#users.delete(userId);
  }

  async suspended(userId: string, version: number): Promise<void> {
    const user = this.#user(userId);
    user.failures = 0;
    user.keyFailures = 0;
    user.suspendedVersion = version;
    user.suspendedUntil = this.clock.now().getTime() + SUSPENDED_MARK_MS;
    this.#users.set(userId, user);
  }

  async restore(userId: string, failures: number, codeFailures: number): Promise<void> {
    const user = this.#user(userId);
    user.failures += failures;
    user.keyFailures += failures - codeFailures;
    this.#users.set(userId, user);
  }

  /** How many users' entries are held (tests). */
  get held(): number {
    return this.#users.size;
  }

  /** A copy of the user's entry (a fresh one when none is kept); reading it stores nothing. */
  #user(userId: string): UserAttempts {
    const kept = this.#users.get(userId);
    return kept === undefined ? { failures: 0, keyFailures: 0, lockedUntil: 0, suspendedUntil: 0, suspendedVersion: 0 } : { ...kept };
  }
}
