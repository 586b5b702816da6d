import { randomBytes } from 'node:crypto';
import { runDetached } from '../../call-scope.js';
import { storeUnavailable } from '../store-unavailable.js';
import { redisCall, userKey, type RedisClient } from '../redis/redis-client.js';

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A short per-user mutex in Redis (SET NX PX with an owner token, released
 * only by its owner). Used to serialize the durable writes of one user where
 * the MongoDB-compatible server does not isolate concurrent updates of one
 * document (FerretDB 1.24); the lock expires by itself if its holder dies.
 */
export class RedisUserLock {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string; readonly timeoutMs: number }) {}

  async withLock<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const key = userKey(this.deps.keyPrefix, userId, 'write-lock');
    const owner = randomBytes(12).toString('base64url');
    const deadline = Date.now() + this.deps.timeoutMs;
    // Released as soon as the write ends; the TTL only frees the lock of a holder that died, and
    // outlives the longest write it guards (a few MongoDB calls, each with a driver retry).
    const ttlMs = Math.max(10_000, this.deps.timeoutMs * 8);
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      const taken = await redisCall(() => this.deps.redis.set(key, owner, 'PX', ttlMs, 'NX'));
      if (taken === 'OK') break;
      if (Date.now() + wait > deadline) throw storeUnavailable('MongoDB (busy: another write of this user is in progress)', null);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    try {
      return await work();
    } finally {
      // Also when the call has ended meanwhile: a lock left held would refuse every write of the user until its TTL.
      await runDetached(() => redisCall(() => this.deps.redis.eval(RELEASE, 1, key, owner))).catch(() => {});
    }
  }
}
