import type { RevocationCache } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// Sets the value only when it moves forward, so a slow reader filling the
// cache from MongoDB cannot overwrite a newer revocation. 0 means "never".
const RAISE = `
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

// Entries expire so that a rare lost update heals itself within this time.
const CACHE_TTL_MS = 60 * 60 * 1000;

/** sessionsRevokedAt per user, as milliseconds since the epoch. */
export class RedisRevocationCache implements RevocationCache {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string }) {}

  async get(userId: string): Promise<Date | null | undefined> {
    const value = await redisCall(() => this.deps.redis.get(this.#key(userId)));
    if (value === null) return undefined;
    const ms = Number(value);
    return ms === 0 ? null : new Date(ms);
  }

  async raise(userId: string, at: Date | null): Promise<void> {
    await redisCall(() => this.deps.redis.eval(RAISE, 1, this.#key(userId), at === null ? 0 : at.getTime(), CACHE_TTL_MS));
  }

  #key(userId: string): string {
    return userKey(this.deps.keyPrefix, userId, 'revoked');
  }
}
