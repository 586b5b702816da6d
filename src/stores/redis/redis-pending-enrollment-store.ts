import type { Clock } from '../../domain/clock.js';
import type { PendingEnrollment, PendingEnrollmentStore } from '../ports.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// Deletes the pending enrollment only when its id matches (cancel, confirm).
const REMOVE_IF_ID = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
if cjson.decode(value).i ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`;

/** Pending enrollments as one short JSON string per user, expiring with Redis's own TTL. */
export class RedisPendingEnrollmentStore implements PendingEnrollmentStore {
  constructor(
    private readonly deps: { readonly redis: RedisClient; readonly clock: Clock; readonly keyPrefix: string },
  ) {}

  async put(enrollment: PendingEnrollment): Promise<void> {
    const ttlMs = enrollment.expiresAt.getTime() - this.deps.clock.now().getTime();
    const value = JSON.stringify({ i: enrollment.enrollmentId, s: enrollment.sealedSecret, e: enrollment.expiresAt.getTime() });
    await redisCall(() => this.deps.redis.set(this.#key(enrollment.userId), value, 'PX', Math.max(1, ttlMs)));
  }

  async get(userId: string): Promise<PendingEnrollment | null> {
    const value = await redisCall(() => this.deps.redis.get(this.#key(userId)));
    if (value === null) return null;
    const parsed = JSON.parse(value) as { i: string; s: string; e: number };
    // Redis expires the key; this also honours the injected clock.
    if (parsed.e <= this.deps.clock.now().getTime()) return null;
    return { enrollmentId: parsed.i, userId, sealedSecret: parsed.s, expiresAt: new Date(parsed.e) };
  }

  async remove(userId: string, enrollmentId: string): Promise<boolean> {
    const removed = await redisCall(() => this.deps.redis.eval(REMOVE_IF_ID, 1, this.#key(userId), enrollmentId));
    return removed === 1;
  }

  #key(userId: string): string {
    return userKey(this.deps.keyPrefix, userId, 'enrollment');
  }
}
