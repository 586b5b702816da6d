import type { AttemptOutcome, AttemptStanding, AttemptStore, LockoutPolicy } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// KEYS: failures counter, lock flag, lockouts in a row. ARGV: 'pass' | 'fail', maxFailures, lockoutMs, maxLockoutMs.
// Returns {0} accepted, {1, failures} rejected, {2, msLeft, failures} locked (failures: the count that locked, else 0).
// Neither count expires (issue 22): a quiet period must not hand an attacker a fresh set of tries.
// PERSIST drops a TTL that a counter written by an older version still carries.
// The k-th lockout in a row lasts min(lockoutMs * 2^(k-1), maxLockoutMs), as lockoutDurationMs() says.
const SETTLE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {2, left, 0} end
if ARGV[1] == 'pass' then
  redis.call('DEL', KEYS[1], KEYS[3])
  return {0}
end
local failures = redis.call('INCR', KEYS[1])
if failures < tonumber(ARGV[2]) then
  redis.call('PERSIST', KEYS[1])
  return {1, failures}
end
local lockouts = redis.call('INCR', KEYS[3])
redis.call('PERSIST', KEYS[3])
local ms = math.floor(math.min(tonumber(ARGV[3]) * 2 ^ math.min(lockouts - 1, 40), tonumber(ARGV[4])))
redis.call('SET', KEYS[2], '1', 'PX', ms)
redis.call('DEL', KEYS[1])
return {2, ms, failures}`;

// KEYS: failures counter, lock flag, lockouts in a row. Returns {ms of lockout left (negative: none), failures, lockouts}.
const STANDING = `return {redis.call('PTTL', KEYS[2]), tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[3]) or '0')}`;

/** The lockout gate: one atomic script per code check, shared by every instance. */
export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string }) {}

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const [kind, value, failures] = (await redisCall(() =>
      this.deps.redis.eval(SETTLE, 3, ...this.#keys(userId), passed ? 'pass' : 'fail', policy.maxFailures, policy.lockoutMs, policy.maxLockoutMs),
    )) as [number, number?, number?];
    if (kind === 0) return { kind: 'accepted' };
    if (kind === 2) return { kind: 'locked', retryAfterMs: value!, failures: failures! };
    return { kind: 'rejected', failures: value! };
  }

  async standing(userId: string): Promise<AttemptStanding> {
    // All in one round trip, from one moment (a script runs alone).
    const [left, failures, lockouts] = (await redisCall(() => this.deps.redis.eval(STANDING, 3, ...this.#keys(userId)))) as [number, number, number];
    return { lockedMs: Math.max(0, left), failures, lockouts };
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const left = await redisCall(() => this.deps.redis.pttl(userKey(this.deps.keyPrefix, userId, 'lock')));
    return Math.max(0, left);
  }

  async clear(userId: string): Promise<void> {
    await redisCall(() => this.deps.redis.del(...this.#keys(userId)));
  }

  /** The user's keys, in the scripts' order: failures counter, lock flag, lockouts in a row (one hash slot). */
  #keys(userId: string): [string, string, string] {
    const key = (kind: string) => userKey(this.deps.keyPrefix, userId, kind);
    return [key('failures'), key('lock'), key('lockouts')];
  }
}
