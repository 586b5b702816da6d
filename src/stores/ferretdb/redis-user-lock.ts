import { randomBytes } from 'node:crypto';
import { runDetached } from '../../call-scope.js';
import { ErrorReason, hasReason } from '../../domain/errors.js';
import { storeUnavailable } from '../../domain/store-unavailable-error.js';
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
    const release = () => runDetached(() => redisCall(() => this.deps.redis.eval(RELEASE, 1, key, owner))).catch(() => {});
    const deadline = Date.now() + this.deps.timeoutMs;
    // Released as soon as the write ends; the TTL frees the lock of a holder that died or whose write's
    // outcome is unknown, and outlives the longest write it guards (a few MongoDB calls, each with a retry).
    const ttlMs = Math.max(10_000, this.deps.timeoutMs * 8);
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      let taken: string | null;
      try {
        taken = await redisCall(() => this.deps.redis.set(key, owner, 'PX', ttlMs, 'NX'));
      } catch (error) {
        // A SET that timed out may still run once Redis answers again: give back what it may take.
        void release();
        throw error;
      }
      if (taken === 'OK') break;
      if (Date.now() + wait > deadline) throw storeUnavailable('MongoDB (busy: another write of this user is in progress)', null);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    let outcomeUnknown = false;
    try {
      return await work();
    } catch (error) {
      // The client gave up on MongoDB, but FerretDB may still apply the write: keep the lock until its
      // TTL, so that no other write of this user runs beside it (the serialization this lock exists for).
      outcomeUnknown = hasReason(error, ErrorReason.STORE_UNAVAILABLE);
      throw error;
    } finally {
      // Otherwise released at once, also when the call has ended meanwhile: a lock left held would
      // refuse every write of the user until its TTL.
      if (!outcomeUnknown) await release();
    }
  }
}
