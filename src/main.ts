/**
 * The composition root: config -> stores -> services -> gRPC server, and the
 * process's signals. The only place that wires; everything else takes its
 * dependencies as arguments.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock, type Clock, type RandomBytes } from './domain/clock.js';
import { Keyring } from './domain/keyring.js';
import { RecoveryCodes } from './domain/recovery-codes.js';
import { SecretBox } from './domain/secret-box.js';
import { createMfaHandlers, type MfaServices } from './grpc/mfa-handlers.js';
import { startGrpcServer, type GrpcServer } from './grpc/server.js';
import { createLogger } from './logger.js';
import { AttemptGuard } from './services/attempt-guard.js';
import { DeviceService } from './services/device-service.js';
import { EnrollmentService } from './services/enrollment-service.js';
import { SessionService } from './services/session-service.js';
import { StatusService } from './services/status-service.js';
import { VerificationService } from './services/verification-service.js';
import { MemoryAttemptStore } from './stores/memory/memory-attempt-store.js';
import { MemoryFactorStore } from './stores/memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from './stores/memory/memory-pending-enrollment-store.js';
import { MemoryRevocationCache } from './stores/memory/memory-revocation-cache.js';
import { createMongoClient } from './stores/mongo/mongo-client.js';
import { MongoFactorStore } from './stores/mongo/mongo-factor-store.js';
import type { AttemptStore, FactorStore, PendingEnrollmentStore, RevocationCache } from './stores/ports.js';
import { createRedis } from './stores/redis/redis-client.js';
import { RedisAttemptStore } from './stores/redis/redis-attempt-store.js';
import { RedisPendingEnrollmentStore } from './stores/redis/redis-pending-enrollment-store.js';
import { RedisRevocationCache } from './stores/redis/redis-revocation-cache.js';

export const REDIS_KEY_PREFIX = 'mfa:';

/** A started service: its port, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly grpc: GrpcServer;
  stop(): Promise<void>;
}

export interface Stores {
  readonly factors: FactorStore;
  readonly pending: PendingEnrollmentStore;
  readonly attempts: AttemptStore;
  readonly revocations: RevocationCache;
  close(): Promise<void>;
}

async function openStores(config: Config, clock: Clock, logger: Logger): Promise<Stores> {
  if (config.stores.kind === 'memory') {
    logger.warn('using embedded in-memory stores: state is lost on exit; for trying the service only, never for production');
    return {
      factors: new MemoryFactorStore(),
      pending: new MemoryPendingEnrollmentStore(clock),
      attempts: new MemoryAttemptStore(clock),
      revocations: new MemoryRevocationCache(),
      close: async () => {},
    };
  }
  const redis = createRedis(config.stores.redisUrl, config.storeTimeoutMs);
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
  const mongo = createMongoClient(config.stores.mongoUrl, config.storeTimeoutMs);
  await Promise.all([redis.connect(), mongo.connect()]);
  const db = mongo.db(config.stores.mongoDb);
  logger.info({ mongoDb: config.stores.mongoDb }, 'connected to Redis and MongoDB');
  const keyPrefix = REDIS_KEY_PREFIX;
  return {
    factors: new MongoFactorStore(db),
    pending: new RedisPendingEnrollmentStore({ redis, clock, keyPrefix }),
    attempts: new RedisAttemptStore({ redis, keyPrefix }),
    revocations: new RedisRevocationCache({ redis, keyPrefix }),
    close: async () => {
      // quit() lets pending replies arrive; disconnect() also stops reconnecting when Redis is gone.
      await Promise.allSettled([redis.quit(), mongo.close()]);
      redis.disconnect();
    },
  };
}

/** The services over a set of stores; used by startService and by the service-level tests. */
export function createServices(
  config: Config,
  stores: Omit<Stores, 'close'>,
  deps: { keyring: Keyring; clock: Clock; random: RandomBytes; logger: Logger },
): MfaServices {
  const { keyring, clock, random, logger } = deps;
  const { factors, pending, attempts } = stores;
  const box = new SecretBox(keyring, random);
  const recoveryCodes = new RecoveryCodes(keyring, random);
  const guard = new AttemptGuard({
    attempts,
    policy: { maxFailures: config.maxFailedAttempts, lockoutMs: config.lockoutSeconds * 1000 },
  });
  const sessions = new SessionService({ factors, cache: stores.revocations, clock, logger: logger.child({ component: 'sessions' }) });
  const devices = new DeviceService({
    factors,
    clock,
    random,
    rememberDeviceMs: config.rememberDeviceDays * 86_400_000,
    maxDevices: config.maxRememberedDevices,
  });
  return {
    enrollment: new EnrollmentService({
      factors, pending, guard, sessions, box, recoveryCodes, clock, random,
      logger: logger.child({ component: 'enrollment' }),
      issuer: config.issuer,
      enrollmentTtlMs: config.enrollmentTtlSeconds * 1000,
    }),
    verification: new VerificationService({ factors, guard, sessions, devices, box, recoveryCodes, clock }),
    devices,
    sessions,
    status: new StatusService({ factors, pending, attempts, sessions, clock }),
  };
}

/** Wires and starts the whole service. Tests call it with their own clock and logger. */
export async function startService(
  config: Config,
  options: { logger: Logger; clock?: Clock; random?: RandomBytes },
): Promise<RunningService> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? randomBytes;
  let keyring = config.keyring;
  if (keyring === null) {
    logger.warn('MFA_ENCRYPTION_KEYS is not set: using an ephemeral key; secrets will not open after a restart');
    keyring = new Keyring([{ id: 'ephemeral', key: random(32) }]);
  }
  const stores = await openStores(config, clock, logger);
  const services = createServices(config, stores, { keyring, clock, random, logger });

  let grpc: GrpcServer;
  try {
    grpc = await startGrpcServer({
      handlers: createMfaHandlers(services, logger.child({ component: 'grpc' })),
      host: config.grpcHost,
      port: config.grpcPort,
    });
  } catch (error) {
    await stores.close();
    throw error;
  }
  logger.info({ host: config.grpcHost, port: grpc.port, stores: config.stores.kind }, 'mfa-service listening');
  return {
    port: grpc.port,
    grpc,
    stop: async () => {
      grpc.health.setStatus('', 'NOT_SERVING');
      await grpc.stop();
      await stores.close();
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`mfa-service: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  const service = await startService(config, { logger });
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`mfa-service: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
