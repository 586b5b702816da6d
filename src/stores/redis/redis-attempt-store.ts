import type { AttemptOutcome, AttemptStanding, AttemptStore, LockoutPolicy } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// KEYS: failures counter, lock flag, suspended mark (the version it marks), key failures counter (those of the failures
// that were a security key's: they count towards the lockout, never towards suspendAt; issue 23).
// ARGV: 'pass' | 'fail' | 'fail-key', maxFailures, lockoutMs, suspendAt (0: none), the version of the record the caller read.
// A counter written before key failures were kept apart has no key failures: all its failures are code failures.
// {4}: the caller read the user before a suspension that is marked since (suspendAt set): nothing counted or cleared.
// Returns {0} accepted, {1, failures} rejected, {2, msLeft, failures, codeFailures} locked (the counts that locked, else
// 0), {3, codeFailures} the suspension limit reached: the count stays until the caller has made the suspension durable.
// The count never expires (issue 22): a quiet period must not hand an attacker a fresh set of tries.
// PERSIST drops the TTL that a counter written by an older version still carries.
const SETTLE = `
local suspendAt = tonumber(ARGV[4])
if suspendAt > 0 then
  local marked = tonumber(redis.call('GET', KEYS[3]) or '-1')
  if tonumber(ARGV[5]) <= marked then return {4} end
end
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {2, left, 0, 0} end
if ARGV[1] == 'pass' then
  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
  return {0}
end
local failures = redis.call('INCR', KEYS[1])
local keyFailures = tonumber(redis.call('GET', KEYS[4]) or '0')
if ARGV[1] == 'fail-key' then keyFailures = redis.call('INCR', KEYS[4]) end
local codeFailures = math.max(0, failures - keyFailures)
if suspendAt > 0 and codeFailures >= suspendAt then
  redis.call('PERSIST', KEYS[1])
  return {3, codeFailures}
end
if failures >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1], KEYS[4])
  return {2, tonumber(ARGV[3]), failures, codeFailures}
end
redis.call('PERSIST', KEYS[1])
return {1, failures}`;

// KEYS: failures counter, lock flag. Returns {ms of lockout left (negative: none), failures}.
const STANDING = `return {redis.call('PTTL', KEYS[2]), tonumber(redis.call('GET', KEYS[1]) or '0')}`;

/** How long suspended()'s mark lives: far beyond any call in flight when the suspension committed. */
const SUSPENDED_MARK_MS = 86_400_000;

/** The lockout gate: one atomic script per code check, shared by every instance. */
export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string }) {}

  async settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const [kind, value, failures, codeFailures] = (await redisCall(() =>
      this.deps.redis.eval(SETTLE, 4, ...this.#keys(userId), passed ? 'pass' : policy.keyFailure ? 'fail-key' : 'fail', policy.maxFailures, policy.lockoutMs, policy.suspendAt ?? 0, policy.readVersion ?? 0),
    )) as [number, number?, number?, number?];
    if (kind === 0) return { kind: 'accepted' };
    if (kind === 2) return { kind: 'locked', retryAfterMs: value!, failures: failures!, codeFailures: codeFailures! };
    if (kind === 3) return { kind: 'limit', failures: value! };
    if (kind === 4) return { kind: 'suspended' };
    return { kind: 'rejected', failures: value! };
  }

  async standing(userId: string): Promise<AttemptStanding> {
    // Both in one round trip, from one moment (a script runs alone).
    const [left, failures] = (await redisCall(() => this.deps.redis.eval(STANDING, 4, ...this.#keys(userId)))) as [number, number];
    return { lockedMs: Math.max(0, left), failures };
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const left = await redisCall(() => this.deps.redis.pttl(userKey(this.deps.keyPrefix, userId, 'lock')));
    return Math.max(0, left);
  }

  async clear(userId: string): Promise<void> {
    await redisCall(() => this.deps.redis.del(...this.#keys(userId)));
  }

  async suspended(userId: string, version: number): Promise<void> {
    const [failures, , mark, keyFailures] = this.#keys(userId);
    // One MULTI on one slot (the keys share the user's hash tag): never the mark without the count gone.
    await redisCall(() => this.deps.redis.multi().del(failures, keyFailures).set(mark, String(version), 'PX', SUSPENDED_MARK_MS).exec());
  }

  async restore(userId: string, failures: number, codeFailures: number): Promise<void> {
    const [all, , , keyFailures] = this.#keys(userId);
    // INCRBY keeps a key without a time to live as it is: the counts never expire. One MULTI on one slot.
    await redisCall(() => this.deps.redis.multi().incrby(all, failures).incrby(keyFailures, failures - codeFailures).exec());
  }

  /** The user's keys, in the scripts' order: failures counter, lock flag, suspended mark, key failures (one hash slot). */
  #keys(userId: string): [string, string, string, string] {
    const key = (kind: string) => userKey(this.deps.keyPrefix, userId, kind);
    return [key('failures'), key('lock'), key('suspended'), key('key-failures')];
  }
}
