import type { Clock } from '../../domain/clock.js';
import type { EnrollmentConfirmation, PendingEnrollment, PendingEnrollmentStore, PutPendingOptions } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// Stored as JSON: {i: id, u: authenticator id, l: label, x: adding (1/0), s: sealed secret, e: expiry ms,
// c?: {t: step, a: enabledAt ms, r: sealed codes, v: record version}}.

// Replaces the user's enrollment unless it is confirmed. ARGV: value, ttl ms, '1' to replace a confirmed one
// too, the id of one never to replace once confirmed ('' for none).
const PUT = `
local current = redis.call('GET', KEYS[1])
if current then
  local p = cjson.decode(current)
  if p.c and (ARGV[3] ~= '1' or p.i == ARGV[4]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

// Records a confirmation once, on the enrollment with this id. ARGV: id, confirmation JSON, keep-until ms, now ms.
const CONFIRM = `
local value = redis.call('GET', KEYS[1])
if not value then return false end
local p = cjson.decode(value)
if p.i ~= ARGV[1] then return false end
if not p.c then
  p.c = cjson.decode(ARGV[2])
  local keep = math.max(tonumber(ARGV[3]), p.e)
  p.e = keep
  value = cjson.encode(p)
  redis.call('SET', KEYS[1], value, 'PX', math.max(1, keep - tonumber(ARGV[4])))
end
return value`;

// Deletes the enrollment only when its id matches, and (unless ARGV[2] is '1') it is not confirmed.
const REMOVE_IF_ID = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local p = cjson.decode(value)
if p.i ~= ARGV[1] or (p.c and ARGV[2] ~= '1') then return 0 end
return redis.call('DEL', KEYS[1])`;

interface Stored {
  i: string;
  u: string;
  l: string;
  x: 0 | 1;
  s: string;
  e: number;
  c?: { t: number; a: number; r: string; v: number };
}

/** Pending enrollments as one short JSON string per user, expiring with Redis's own TTL. */
export class RedisPendingEnrollmentStore implements PendingEnrollmentStore {
  constructor(
    private readonly deps: { readonly redis: RedisClient; readonly clock: Clock; readonly keyPrefix: string },
  ) {}

  async put(enrollment: PendingEnrollment, options: PutPendingOptions = {}): Promise<boolean> {
    const ttlMs = enrollment.expiresAt.getTime() - this.deps.clock.now().getTime();
    const value = JSON.stringify({
      i: enrollment.enrollmentId,
      u: enrollment.authenticatorId,
      l: enrollment.label,
      x: enrollment.adding ? 1 : 0,
      s: enrollment.sealedSecret,
      e: enrollment.expiresAt.getTime(),
    } satisfies Stored);
    const replace = options.replaceConfirmed ? '1' : '0';
    const put = await redisCall(() =>
      this.deps.redis.eval(PUT, 1, this.#key(enrollment.userId), value, Math.max(1, ttlMs), replace, options.keepConfirmedId ?? ''),
    );
    return put === 1;
  }

  async get(userId: string): Promise<PendingEnrollment | null> {
    return this.#parse(userId, await redisCall(() => this.deps.redis.get(this.#key(userId))));
  }

  async confirm(userId: string, enrollmentId: string, confirmation: EnrollmentConfirmation, keepUntil: Date): Promise<PendingEnrollment | null> {
    const c = { t: confirmation.timeStep, a: confirmation.enabledAt.getTime(), r: confirmation.sealedRecoveryCodes, v: confirmation.recordVersion };
    const value = await redisCall(() =>
      this.deps.redis.eval(CONFIRM, 1, this.#key(userId), enrollmentId, JSON.stringify(c), keepUntil.getTime(), this.deps.clock.now().getTime()),
    );
    return this.#parse(userId, typeof value === 'string' ? value : null);
  }

  async remove(userId: string, enrollmentId: string): Promise<boolean> {
    const removed = await redisCall(() => this.deps.redis.eval(REMOVE_IF_ID, 1, this.#key(userId), enrollmentId, '0'));
    return removed === 1;
  }

  async discard(userId: string, enrollmentId: string): Promise<void> {
    await redisCall(() => this.deps.redis.eval(REMOVE_IF_ID, 1, this.#key(userId), enrollmentId, '1'));
  }

  async clear(userId: string): Promise<void> {
    await redisCall(() => this.deps.redis.del(this.#key(userId)));
  }

  #parse(userId: string, value: string | null): PendingEnrollment | null {
    if (value === null) return null;
    const parsed = JSON.parse(value) as Stored;
    // Redis expires the key; this also honours the injected clock.
    if (parsed.e <= this.deps.clock.now().getTime()) return null;
    const enrollment = {
      enrollmentId: parsed.i,
      userId,
      authenticatorId: parsed.u,
      label: parsed.l,
      adding: parsed.x === 1,
      sealedSecret: parsed.s,
      expiresAt: new Date(parsed.e),
    };
    if (parsed.c === undefined) return enrollment;
    const confirmation = { timeStep: parsed.c.t, enabledAt: new Date(parsed.c.a), sealedRecoveryCodes: parsed.c.r, recordVersion: parsed.c.v };
    return { ...enrollment, confirmation };
  }

  #key(userId: string): string {
    return userKey(this.deps.keyPrefix, userId, 'enrollment');
  }
}
