import type { Clock } from '../../domain/clock.js';
import type { ChallengePurpose, WebAuthnChallenge, WebAuthnChallengeStore } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

// Records a registration's outcome once and keeps both keys until then. KEYS: registration, outcome.
// ARGV: outcome, keep-until ms, now ms. Both keys carry the user's hash tag: one Cluster slot.
const SETTLE = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return false end
local keep = math.max(tonumber(ARGV[2]) - tonumber(ARGV[3]), ttl, 1)
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', keep)
redis.call('PEXPIRE', KEYS[1], math.max(keep, ttl))
return redis.call('GET', KEYS[2])`;

interface Stored {
  c: string;
  e: number;
  r?: { a: string; l: string; x: 0 | 1 };
}

/**
 * WebAuthn challenges as one JSON string per challenge, under the user's
 * hash-tagged key with the purpose in it, expiring with Redis's own TTL.
 * take() is GETDEL: atomic on one Redis and on a Cluster alike.
 */
export class RedisWebAuthnChallengeStore implements WebAuthnChallengeStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly clock: Clock; readonly keyPrefix: string }) {}

  async put(challenge: WebAuthnChallenge): Promise<void> {
    const ttlMs = Math.max(1, challenge.expiresAt.getTime() - this.deps.clock.now().getTime());
    const { registration: r } = challenge;
    const stored: Stored = { c: challenge.challenge, e: challenge.expiresAt.getTime(), ...(r ? { r: { a: r.authenticatorId, l: r.label, x: r.adding ? 1 : 0 } } : {}) };
    const key = this.#key(challenge.userId, challenge.purpose, challenge.challengeId);
    await redisCall(() => this.deps.redis.set(key, JSON.stringify(stored), 'PX', ttlMs));
  }

  async take(userId: string, purpose: ChallengePurpose, challengeId: string): Promise<WebAuthnChallenge | null> {
    const value = await redisCall(() => this.deps.redis.getdel(this.#key(userId, purpose, challengeId)));
    return value === null ? null : toChallenge(userId, purpose, challengeId, value);
  }

  async get(userId: string, purpose: ChallengePurpose, challengeId: string): Promise<WebAuthnChallenge | null> {
    const value = await redisCall(() => this.deps.redis.get(this.#key(userId, purpose, challengeId)));
    return value === null ? null : toChallenge(userId, purpose, challengeId, value);
  }

  async settle(userId: string, challengeId: string, outcome: string, keepUntil: Date): Promise<string | null> {
    const keys = [this.#key(userId, 'registration', challengeId), this.#outcomeKey(userId, challengeId)];
    const now = this.deps.clock.now().getTime();
    const recorded = await redisCall(() => this.deps.redis.eval(SETTLE, 2, ...keys, outcome, keepUntil.getTime(), now));
    return typeof recorded === 'string' ? recorded : null;
  }

  async outcome(userId: string, challengeId: string): Promise<string | null> {
    return redisCall(() => this.deps.redis.get(this.#outcomeKey(userId, challengeId)));
  }

  #key(userId: string, purpose: ChallengePurpose, challengeId: string): string {
    // encodeURIComponent: the id is the caller's, and must not reach into another key's name.
    return userKey(this.deps.keyPrefix, userId, `webauthn:${purpose}:${encodeURIComponent(challengeId)}`);
  }

  #outcomeKey(userId: string, challengeId: string): string {
    return userKey(this.deps.keyPrefix, userId, `webauthn:registration:${encodeURIComponent(challengeId)}:outcome`);
  }
}

function toChallenge(userId: string, purpose: ChallengePurpose, challengeId: string, value: string): WebAuthnChallenge {
  const s = JSON.parse(value) as Stored;
  return {
    challengeId,
    userId,
    purpose,
    challenge: s.c,
    expiresAt: new Date(s.e),
    ...(s.r ? { registration: { authenticatorId: s.r.a, label: s.r.l, adding: s.r.x === 1 } } : {}),
  };
}
