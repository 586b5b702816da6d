import type { AttemptOutcome, AttemptStore, LockoutPolicy } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// KEYS: failures counter, lock flag. ARGV: 'pass' | 'fail', maxFailures, lockoutMs.
// Returns {0} accepted, {1, failures} rejected, {2, msLeft, failures} locked.
// Failures are forgotten after a quiet lockout period, so stray typos do not add up forever.
const SETTLE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {2, left, tonumber(redis.call('GET', KEYS[1]) or '0')} end
if ARGV[1] == 'pass' then
  redis.call('DEL', KEYS[1])
  return {0}
end
local failures = redis.call('INCR', KEYS[1])
if failures >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {2, tonumber(ARGV[3]), failures}
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, failures}`;

// KEYS: failures counter, lock flag. Returns {ms of lockout left (negative: none), failures}.
const STANDING = `return {redis.call('PTTL', KEYS[2]), tonumber(redis.call('GET', KEYS[1]) or '0')}`;

/** The lockout gate: one atomic script per code check, shared by every instance. */
export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string }) {}

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const key = (kind: string) => userKey(this.deps.keyPrefix, userId, kind);
    const [kind, value, failures] = (await redisCall(() =>
      this.deps.redis.eval(SETTLE, 2, key('failures'), key('lock'), passed ? 'pass' : 'fail', policy.maxFailures, policy.lockoutMs),
    )) as [number, number?, number?];
    if (kind === 0) return { kind: 'accepted' };
    if (kind === 2) return { kind: 'locked', retryAfterMs: value!, failures: failures! };
    return { kind: 'rejected', failures: value! };
  }

  async standing(userId: string): Promise<{ lockedMs: number; failures: number }> {
    const key = (kind: string) => userKey(this.deps.keyPrefix, userId, kind);
    // Both in one round trip, from one moment (a script runs alone).
    const [left, failures] = (await redisCall(() => this.deps.redis.eval(STANDING, 2, key('failures'), key('lock')))) as [number, number];
    return { lockedMs: Math.max(0, left), failures };
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const left = await redisCall(() => this.deps.redis.pttl(userKey(this.deps.keyPrefix, userId, 'lock')));
    return Math.max(0, left);
  }
}
