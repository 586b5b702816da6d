import { PROOF_CLAIM_TTL_MS, type AttemptOutcome, type AttemptStore, type CodeProof, type LockoutPolicy } from '../ports.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// KEYS: failures counter, lock flag, claim key (last step, or one used code).
// ARGV: mode ('fail' | 'step' | 'first-step' | 'once'), maxFailures, lockoutMs, step, claimTtlMs.
// Returns {0} accepted, {1, failures} rejected, {3, failures} reused, {2, msLeft} locked.
// Failures are forgotten after a quiet lockout period, so stray typos do not add up forever.
const SETTLE = `
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return {2, left} end
local mode = ARGV[1]
local reused = 0
if mode == 'step' then
  local last = tonumber(redis.call('GET', KEYS[3]) or '-1')
  if last >= tonumber(ARGV[4]) then reused = 1 else redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5]) end
elseif mode == 'first-step' then
  redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5])
elseif mode == 'once' then
  if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[5]) then reused = 1 end
end
if mode ~= 'fail' and reused == 0 then
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
return {1 + 2 * reused, failures}`;

/** Lockout counters and the replay guard: one atomic script per code check, shared by every instance. */
export class RedisAttemptStore implements AttemptStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string }) {}

  async settle(userId: string, proof: CodeProof | null, policy: LockoutPolicy): Promise<AttemptOutcome> {
    const key = (kind: string) => userKey(this.deps.keyPrefix, userId, kind);
    const [mode, claimKey, step] =
      proof === null
        ? ['fail', key('step'), 0]
        : 'timeStep' in proof
          ? [proof.firstStep ? 'first-step' : 'step', key('step'), proof.timeStep]
          : ['once', key(`used:${proof.recoveryCodeHash}`), 0];
    const [kind, value] = (await redisCall(() =>
      this.deps.redis.eval(SETTLE, 3, key('failures'), key('lock'), claimKey, mode, policy.maxFailures, policy.lockoutMs, step, PROOF_CLAIM_TTL_MS),
    )) as [number, number];
    if (kind === 0) return { kind: 'accepted' };
    if (kind === 2) return { kind: 'locked', retryAfterMs: value };
    return { kind: 'rejected', failures: value, reused: kind === 3 };
  }

  async releaseRecoveryCode(userId: string, recoveryCodeHash: string): Promise<void> {
    await redisCall(() => this.deps.redis.del(userKey(this.deps.keyPrefix, userId, `used:${recoveryCodeHash}`)));
  }

  async lockoutRemainingMs(userId: string): Promise<number> {
    const left = await redisCall(() => this.deps.redis.pttl(userKey(this.deps.keyPrefix, userId, 'lock')));
    return Math.max(0, left);
  }
}
