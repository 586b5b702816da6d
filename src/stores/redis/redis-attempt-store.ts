import type { Redis } from 'ioredis';
import type { AttemptOutcome, AttemptStore, LockoutPolicy } from '../ports.js';
import { redisCall, userKey } from './redis-client.js';

// KEYS: failures counter, lock flag. ARGV: success (1/0), maxFailures, lockoutMs.
// Returns {0} accepted, {1, failures} rejected, {2, msLeft} locked. Failures
// are forgotten after a quiet lockout period, so stray typos do not add up forever.
const SETTLE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {2, left} end
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
  return {0, 0}
end
local failures = redis.call('INCR', KEYS[1])
if failures >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {2, tonumber(ARGV[3])}
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, failures}`;

/** Lockout counters: one atomic script per code check, so every instance sees the same count. */
export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly deps: { readonly redis: Redis; readonly keyPrefix: string }) {}

  async settle(userId: string, success: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const keys = [userKey(this.deps.keyPrefix, userId, 'failures'), userKey(this.deps.keyPrefix, userId, 'lock')];
    const [kind, value] = (await redisCall(() =>
      this.deps.redis.eval(SETTLE, 2, ...keys, success ? '1' : '0', policy.maxFailures, policy.lockoutMs),
    )) as [number, number];
    if (kind === 0) return { kind: 'accepted' };
    if (kind === 1) return { kind: 'rejected', failures: value };
    return { kind: 'locked', retryAfterMs: value };
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const left = await redisCall(() => this.deps.redis.pttl(userKey(this.deps.keyPrefix, userId, 'lock')));
    return Math.max(0, left);
  }
}
