import type { MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { adaptFactorStore } from './ferretdb/ferretdb.js';
import { MemoryAttemptStore } from './memory/memory-attempt-store.js';
import { MemoryNotifier } from './memory/memory-notifier.js';
import { MemoryFactorStore } from './memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from './memory/memory-pending-enrollment-store.js';
import { MemoryRevocationCache } from './memory/memory-revocation-cache.js';
import { MemorySecurityEventLog } from './memory/memory-security-event-log.js';
import { MemoryLoginCopyStore } from './memory/memory-login-copy-store.js';
import { MemoryAssertionKeyStore } from './memory/memory-assertion-key-store.js';
import { MemoryRedemptionStore } from './memory/memory-redemption-store.js';
import { MongoAssertionKeyStore } from './mongo/mongo-assertion-key-store.js';
import { MongoRedemptionStore } from './mongo/mongo-redemption-store.js';
import { createMongoClient } from './mongo/mongo-client.js';
import { MongoFactorStore } from './mongo/mongo-factor-store.js';
import { MongoSecurityEventLog } from './mongo/mongo-security-event-log.js';
import type { AssertionKeyStore, AttemptStore, CredentialClaimStore, FactorStore, RedemptionStore, Notifier, OutboxStore, PendingEnrollmentStore, RevocationCache, SecurityEventLog, LoginCopyStore, WebAuthnChallengeStore } from './ports/index.js';
import { MemoryCredentialClaimStore } from './memory/memory-credential-claim-store.js';
import { MemoryWebAuthnChallengeStore } from './memory/memory-webauthn-challenge-store.js';
import { MongoCredentialClaimStore } from './mongo/mongo-credential-claim-store.js';
import { RedisWebAuthnChallengeStore } from './redis/redis-webauthn-challenge-store.js';
import { connectRedis, createRedis, userKey, type RedisClient } from './redis/redis-client.js';
import { RedisAttemptStore } from './redis/redis-attempt-store.js';
import { RedisNotifier } from './redis/redis-notifier.js';
import { RedisPendingEnrollmentStore } from './redis/redis-pending-enrollment-store.js';
import { RedisRevocationCache } from './redis/redis-revocation-cache.js';
import { RedisLoginCopyStore } from './redis/redis-login-copy-store.js';
import type { StoreProbe } from './store-monitor.js';
import { cannotReachAtStartUp } from './cannot-reach-at-start-up.js';

/** Where state lives: embedded in-memory stores (trying it out) or Redis + MongoDB. */
export type StoreConfig =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'external';
      /** One URL, or with redisCluster a comma-separated list of seed nodes. */
      readonly redisUrl: string;
      readonly redisCluster: boolean;
      /** MFA_REDIS_KEY_PREFIX: every key and channel starts with it (DEFAULT_REDIS_KEY_PREFIX unless set). */
      readonly redisKeyPrefix: string;
      readonly mongoUrl: string;
      readonly mongoDb: string;
    };

/** Prefix of every Redis key the service writes, unless MFA_REDIS_KEY_PREFIX says otherwise. */
export const DEFAULT_REDIS_KEY_PREFIX = 'mfa:';

/** Every store the services use, the probes that tell whether they are reachable, and how to close them. */
export interface Stores {
  /** The users' durable MFA state, and in the same documents their outboxes of security events. */
  readonly factors: FactorStore & OutboxStore;
  readonly pending: PendingEnrollmentStore;
  readonly attempts: AttemptStore;
  readonly revocations: RevocationCache;
  /** VerifyTotp's copies of what it reads (see LoginCopy). */
  readonly loginCopies: LoginCopyStore;
  readonly securityEvents: SecurityEventLog;
  /** Confirmed enrollments, by user (WatchTotpEnrollment). */
  readonly confirmations: Notifier;
  /** Relayed security events (WatchSecurityEvents). */
  readonly eventNotices: Notifier;
  /** The signing keys of MFA assertions (issue 25). */
  readonly assertionKeys: AssertionKeyStore;
  /** Redeemed MFA assertions (RedeemMfaAssertion). */
  readonly redemptions: RedemptionStore;
  /** WebAuthn challenges and registrations (Redis). */
  readonly challenges: WebAuthnChallengeStore;
  /** Which user each WebAuthn credential ID belongs to (MongoDB). */
  readonly credentialClaims: CredentialClaimStore;
  readonly probes: readonly StoreProbe[];
  close(): Promise<void>;
}

/** Opens the embedded in-memory stores, or connects to Redis and MongoDB. */
export interface OpenStoresDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timeoutMs: number;
  /** MFA_EVENT_RETENTION_DAYS in seconds: the TTL index of the event log, where the server has them. */
  readonly eventRetentionSeconds: number;
  /** MFA_TOTP_COPY_SECONDS in milliseconds: how long VerifyTotp's copy of a user lives unread (0: none is taken). */
  readonly loginCopyTtlMs: number;
}

export async function openStores(config: StoreConfig, deps: OpenStoresDeps): Promise<Stores> {
  const { clock, logger } = deps;
  if (config.kind === 'memory') {
    logger.warn('using embedded in-memory stores: state is lost on exit; for trying the service only, never for production');
    return {
      factors: new MemoryFactorStore(),
      pending: new MemoryPendingEnrollmentStore(clock),
      attempts: new MemoryAttemptStore(clock),
      revocations: new MemoryRevocationCache(),
      loginCopies: new MemoryLoginCopyStore({ clock, ttlMs: deps.loginCopyTtlMs }),
      securityEvents: new MemorySecurityEventLog(),
      confirmations: new MemoryNotifier(),
      eventNotices: new MemoryNotifier(),
      assertionKeys: new MemoryAssertionKeyStore(),
      redemptions: new MemoryRedemptionStore(),
      challenges: new MemoryWebAuthnChallengeStore(clock),
      credentialClaims: new MemoryCredentialClaimStore(),
      probes: [],
      close: async () => {},
    };
  }
  const redis = createRedis(config.redisUrl, { timeoutMs: deps.timeoutMs, cluster: config.redisCluster });
  redis.on('error', (error: Error) => logger.debug({ err: error }, 'Redis connection error'));
  // A connection in subscriber mode takes no other commands: a single Redis needs a second one for
  // the notices; a Cluster keeps its own sharded subscriber connections.
  const subscriber: RedisClient = redis.isCluster ? redis : redis.duplicate();
  if (subscriber !== redis) subscriber.on('error', (error: Error) => logger.debug({ err: error }, 'Redis subscriber connection error'));
  const mongo = createMongoClient(config.mongoUrl, deps.timeoutMs);
  const close = async () => {
    // quit() lets pending replies arrive; disconnect() also stops reconnecting when Redis is gone.
    await Promise.allSettled([redis.quit(), subscriber === redis ? null : subscriber.quit(), mongo.close()]);
    redis.disconnect();
    subscriber.disconnect();
  };
  // Whatever step of start-up fails, every client is closed: nothing keeps reconnecting behind the error.
  try {
    // All settle before anything is closed, so that no connect is left pending.
    const [redisUp, subscriberUp, mongoUp] = await Promise.allSettled([
      connectRedis(redis),
      subscriber === redis ? null : connectRedis(subscriber),
      mongo.connect(),
    ]);
    if (redisUp.status === 'rejected') throw cannotReachAtStartUp('Redis', config.redisUrl, redisUp.reason);
    if (subscriberUp.status === 'rejected') throw cannotReachAtStartUp('Redis', config.redisUrl, subscriberUp.reason);
    if (mongoUp.status === 'rejected') throw cannotReachAtStartUp('MongoDB', config.mongoUrl, mongoUp.reason);
    return await storesOn(config, deps, { redis, subscriber }, mongo, close);
  } catch (error) {
    await close();
    throw error;
  }
}

/** The stores over connected clients; `close` closes them all. */
async function storesOn(
  config: Extract<StoreConfig, { kind: 'external' }>,
  deps: OpenStoresDeps,
  { redis, subscriber }: { redis: RedisClient; subscriber: RedisClient },
  mongo: MongoClient,
  close: () => Promise<void>,
): Promise<Stores> {
  const { clock, logger } = deps;
  const db = mongo.db(config.mongoDb);
  const keyPrefix = config.redisKeyPrefix;
  const mongoFactors = new MongoFactorStore(db);
  await mongoFactors.ensureIndexes();
  const { factors, claims, ferretDb } = await adaptFactorStore(
    db,
    { factors: mongoFactors, claims: new MongoCredentialClaimStore(db) },
    { redis, keyPrefix, timeoutMs: deps.timeoutMs },
  );
  // FerretDB has no TTL indexes: EventRelay removes expired events there.
  const securityEvents = new MongoSecurityEventLog(db, { retentionSeconds: deps.eventRetentionSeconds, ttlIndexes: !ferretDb });
  await securityEvents.ensureIndexes();
  const redemptions = new MongoRedemptionStore(db);
  await redemptions.ensureIndexes();
  const { timeoutMs } = deps;
  logger.info({ mongoDb: config.mongoDb, ferretDb }, 'connected to Redis and MongoDB');
  return {
    factors,
    pending: new RedisPendingEnrollmentStore({ redis, clock, keyPrefix }),
    attempts: new RedisAttemptStore({ redis, keyPrefix }),
    revocations: new RedisRevocationCache({ redis, keyPrefix }),
    loginCopies: new RedisLoginCopyStore({ redis, keyPrefix, ttlMs: deps.loginCopyTtlMs }),
    securityEvents,
    confirmations: new RedisNotifier({ redis, subscriber, timeoutMs, channel: (userId) => userKey(keyPrefix, userId, 'confirmed') }),
    // One channel for the whole deployment (its hash tag puts it on one Cluster shard).
    eventNotices: new RedisNotifier({ redis, subscriber, timeoutMs, channel: (topic) => `${keyPrefix}{${topic}}:relayed` }),
    assertionKeys: new MongoAssertionKeyStore(db),
    redemptions,
    challenges: new RedisWebAuthnChallengeStore({ redis, clock, keyPrefix }),
    credentialClaims: claims,
    probes: [
      { name: 'redis', ping: () => redis.ping() },
      { name: 'mongodb', ping: () => db.command({ ping: 1 }) },
    ],
    close,
  };
}
