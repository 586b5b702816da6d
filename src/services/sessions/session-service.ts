import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { ErrorReason, hasReason } from '../../domain/errors.js';
import type { FactorStore, RevocationCache } from '../../stores/ports/index.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';

export interface SessionCheck {
  readonly revoked: boolean;
  readonly sessionsRevokedAt: Date | null;
}

/**
 * Session revocation ("log out everywhere"). The durable value lives in the
 * FactorStore; the RevocationCache (Redis) answers CheckSession in one round
 * trip. Writers raise the cache first and the durable value second, so a
 * failure between the two errs on the side of logging the user out.
 */
export class SessionService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly cache: RevocationCache;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
      readonly logger: Logger;
    },
  ) {}

  async revoke(userId: string): Promise<Date> {
    const at = this.deps.clock.now();
    await this.deps.cache.raise(userId, at);
    await this.deps.factors.raiseSessionsRevokedAt(userId, at, [this.deps.events.make(userId, 'SESSIONS_REVOKED')]);
    return at;
  }

  /** The cache half of a revocation whose durable half is part of another write (enable, disable). */
  async announce(userId: string, at: Date): Promise<void> {
    await this.deps.cache.raise(userId, at);
  }

  async check(userId: string, sessionIssuedAt: Date): Promise<SessionCheck> {
    const sessionsRevokedAt = await this.revokedAt(userId);
    return {
      revoked: sessionsRevokedAt !== null && sessionIssuedAt.getTime() < sessionsRevokedAt.getTime(),
      sessionsRevokedAt,
    };
  }

  /** The user's sessionsRevokedAt: from the cache, else from the durable store (and then cached). */
  async revokedAt(userId: string): Promise<Date | null> {
    let cached: Date | null | undefined;
    try {
      cached = await this.deps.cache.get(userId);
    } catch (error) {
      // A cache outage must not stop every gateway request: the durable value is authoritative.
      if (!hasReason(error, ErrorReason.STORE_UNAVAILABLE)) throw error;
      this.deps.logger.warn({ userId }, 'revocation cache unavailable; reading the durable store');
      return (await this.deps.factors.get(userId))?.sessionsRevokedAt ?? null;
    }
    if (cached !== undefined) return cached;
    const durable = (await this.deps.factors.get(userId))?.sessionsRevokedAt ?? null;
    await this.deps.cache.raise(userId, durable);
    return durable;
  }
}
