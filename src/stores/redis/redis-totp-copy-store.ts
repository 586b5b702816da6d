import type { TotpCopy, TotpCopyStore } from '../ports.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

/** As stored: [version, [[authenticatorId, sealedSecret, lastTimeStep], ...], recoveryCodesRemaining]. */
type Stored = [number, [string, string, number][], number];

/**
 * VerifyTotp's copies, one JSON string per user with a time to live that each
 * read renews (GETEX, Redis 6.2 and later). A put
 * simply replaces: nothing trusts a copy (see TotpCopy), so a slow put of an
 * older one costs the next login one MongoDB read, never a wrong answer.
 */
export class RedisTotpCopyStore implements TotpCopyStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string; readonly ttlMs: number }) {}

  async get(userId: string): Promise<TotpCopy | null> {
    const value = await redisCall(() => this.deps.redis.getex(this.#key(userId), 'PX', this.deps.ttlMs));
    if (value === null) return null;
    const [version, authenticators, recoveryCodesRemaining] = JSON.parse(value) as Stored;
    return {
      userId,
      version,
      authenticators: authenticators.map(([authenticatorId, sealedSecret, lastTimeStep]) => ({ authenticatorId, sealedSecret, lastTimeStep })),
      recoveryCodesRemaining,
    };
  }

  async put(copy: TotpCopy): Promise<void> {
    const stored: Stored = [copy.version, copy.authenticators.map((a) => [a.authenticatorId, a.sealedSecret, a.lastTimeStep]), copy.recoveryCodesRemaining];
    await redisCall(() => this.deps.redis.set(this.#key(copy.userId), JSON.stringify(stored), 'PX', this.deps.ttlMs));
  }

  #key(userId: string): string {
    return userKey(this.deps.keyPrefix, userId, 'totp-copy');
  }
}
