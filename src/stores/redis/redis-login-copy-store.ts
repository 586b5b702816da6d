import type { LoginCopy, LoginCopyStore } from '../ports/index.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

/** As stored: [version, [[authenticatorId, sealedSecret, lastTimeStep], ...], recoveryCodesRemaining]. */
type Stored = [number, [string, string, number][], number];

/**
 * VerifyTotp's copies, one JSON string per user with a time to live that each
 * read renews (GETEX, Redis 6.2 and later). A put
 * simply replaces: nothing trusts a copy (see LoginCopy), so a slow put of an
 * older one costs the next login one MongoDB read, never a wrong answer.
 */
export class RedisLoginCopyStore implements LoginCopyStore {
  constructor(private readonly deps: { readonly redis: RedisClient; readonly keyPrefix: string; readonly ttlMs: number }) {}

  async get(userId: string): Promise<LoginCopy | null> {
    const value = await redisCall(() => this.deps.redis.getex(this.#key(userId), 'PX', this.deps.ttlMs));
    const stored = value === null ? null : parse(value);
    if (stored === null) return null;
    const [version, authenticators, recoveryCodesRemaining] = stored;
    return {
      userId,
      version,
      authenticators: authenticators.map(([authenticatorId, sealedSecret, lastTimeStep]) => ({ authenticatorId, sealedSecret, lastTimeStep })),
      recoveryCodesRemaining,
    };
  }

  async put(copy: LoginCopy): Promise<void> {
    const stored: Stored = [copy.version, copy.authenticators.map((a) => [a.authenticatorId, a.sealedSecret, a.lastTimeStep]), copy.recoveryCodesRemaining];
    await redisCall(() => this.deps.redis.set(this.#key(copy.userId), JSON.stringify(stored), 'PX', this.deps.ttlMs));
  }

  #key(userId: string): string {
    // The key keeps the name it had before "login copy": copies already in Redis stay readable.
    return userKey(this.deps.keyPrefix, userId, 'totp-copy');
  }
}

/**
 * The stored tuple, or null for a value of another shape (another release's
 * format, say): read as no copy, so the login takes the durable way and puts a
 * new one, and the value never reaches an error message.
 */
function parse(value: string): Stored | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) return null;
  const [version, authenticators, remaining] = parsed as unknown[];
  const isKey = (a: unknown) => Array.isArray(a) && a.length === 3 && typeof a[0] === 'string' && typeof a[1] === 'string' && Number.isInteger(a[2]);
  if (!Number.isInteger(version) || !Number.isInteger(remaining) || !Array.isArray(authenticators) || !authenticators.every(isKey)) return null;
  return parsed as Stored;
}
