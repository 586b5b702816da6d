import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { adaptFactorStore } from './ferretdb/ferretdb.js';
import { MemoryAttemptStore } from './memory/memory-attempt-store.js';
import { MemoryAuditLog } from './memory/memory-audit-log.js';
import { MemoryFactorStore } from './memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from './memory/memory-pending-enrollment-store.js';
import { MemoryRevocationCache } from './memory/memory-revocation-cache.js';
import { MongoAuditLog } from './mongo/mongo-audit-log.js';
import { createMongoClient } from './mongo/mongo-client.js';
import { MongoFactorStore } from './mongo/mongo-factor-store.js';
import type { AttemptStore, AuditLog, FactorStore, PendingEnrollmentStore, RevocationCache } from './ports.js';
import { createRedis } from './redis/redis-client.js';
import { RedisAttemptStore } from './redis/redis-attempt-store.js';
import { RedisPendingEnrollmentStore } from './redis/redis-pending-enrollment-store.js';
import { RedisRevocationCache } from './redis/redis-revocation-cache.js';
import type { StoreProbe } from './store-monitor.js';

/** Where state lives: embedded in-memory stores (trying it out) or Redis + MongoDB. */
export type StoreConfig =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'external';
      /** One URL, or with redisCluster a comma-separated list of seed nodes. */
      readonly redisUrl: string;
      readonly redisCluster: boolean;
      readonly mongoUrl: string;
      readonly mongoDb: string;
    };

/** Prefix of every Redis key the service writes. */
export const REDIS_KEY_PREFIX = 'mfa:';

/** Every store the services use, the probes that tell whether they are reachable, and how to close them. */
export interface Stores {
  readonly factors: FactorStore;
  readonly pending: PendingEnrollmentStore;
  readonly attempts: AttemptStore;
  readonly revocations: RevocationCache;
  readonly auditLog: AuditLog;
  readonly probes: readonly StoreProbe[];
  close(): Promise<void>;
}

/** Opens the embedded in-memory stores, or connects to Redis and MongoDB. */
export async function openStores(config: StoreConfig, deps: { clock: Clock; logger: Logger; timeoutMs: number }): Promise<Stores> {
  const { clock, logger } = deps;
  if (config.kind === 'memory') {
    logger.warn('using embedded in-memory stores: state is lost on exit; for trying the service only, never for production');
    return {
      factors: new MemoryFactorStore(),
      pending: new MemoryPendingEnrollmentStore(clock),
      attempts: new MemoryAttemptStore(clock),
      revocations: new MemoryRevocationCache(),
      auditLog: new MemoryAuditLog(),
      probes: [],
      close: async () => {},
    };
  }
  const redis = createRedis(config.redisUrl, { timeoutMs: deps.timeoutMs, cluster: config.redisCluster });
  redis.on('error', (error: Error) => logger.debug({ err: error }, 'Redis connection error'));
  const mongo = createMongoClient(config.mongoUrl, deps.timeoutMs);
  await Promise.all([redis.connect(), mongo.connect()]);
  const db = mongo.db(config.mongoDb);
  const auditLog = new MongoAuditLog(db);
  await auditLog.ensureIndexes();
  const keyPrefix = REDIS_KEY_PREFIX;
  const { factors, ferretDb } = await adaptFactorStore(db, new MongoFactorStore(db), { redis, keyPrefix, timeoutMs: deps.timeoutMs });
  logger.info({ mongoDb: config.mongoDb, ferretDb }, 'connected to Redis and MongoDB');
  return {
    factors,
    pending: new RedisPendingEnrollmentStore({ redis, clock, keyPrefix }),
    attempts: new RedisAttemptStore({ redis, keyPrefix }),
    revocations: new RedisRevocationCache({ redis, keyPrefix }),
    auditLog,
    probes: [
      { name: 'redis', ping: () => redis.ping() },
      { name: 'mongodb', ping: () => db.command({ ping: 1 }) },
    ],
    close: async () => {
      // quit() lets pending replies arrive; disconnect() also stops reconnecting when Redis is gone.
      await Promise.allSettled([redis.quit(), mongo.close()]);
      redis.disconnect();
    },
  };
}
