import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { Keyring } from '../../src/domain/keyring.js';
import { generateTotp } from '../../src/domain/totp.js';
import type { MfaServices } from '../../src/grpc/mfa-handlers.js';
import { createServices } from '../../src/main.js';
import { MongoAuditLog } from '../../src/stores/mongo/mongo-audit-log.js';
import { MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';
import { REDIS_KEY_PREFIX } from '../../src/stores/open-stores.js';
import type { FactorStore } from '../../src/stores/ports.js';
import { createRedis } from '../../src/stores/redis/redis-client.js';
import { RedisAttemptStore } from '../../src/stores/redis/redis-attempt-store.js';
import { RedisPendingEnrollmentStore } from '../../src/stores/redis/redis-pending-enrollment-store.js';
import { RedisRevocationCache } from '../../src/stores/redis/redis-revocation-cache.js';
import { RedisUserLock } from '../../src/stores/redis/redis-user-lock.js';
import { SerializedFactorStore } from '../../src/stores/serialized-factor-store.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startMongoServer, type TestMongo } from '../support/mongo-server.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';

/** Commands each store received while `action` ran: Redis from MONITOR (not counting what scripts run inside), MongoDB from the driver's command events. */
type Counter = <T>(action: () => Promise<T>) => Promise<{ result: T; redis: string[]; mongo: string[] }>;

/**
 * Issue 4's round-trip budget, counted on the real stores: VerifyTotp makes at
 * most one Redis and two MongoDB round trips, and CheckSession one Redis round
 * trip when Redis has the value. On MongoDB the factor store is used as is; on
 * FerretDB the service adds a per-user Redis lock around durable writes (two
 * more Redis round trips), which the second case pins down too.
 */
describe('store round trips per call (real Redis and MongoDB-compatible server)', function () {
  this.timeout(60_000);
  let redisServer: TestRedis;
  let mongoServer: TestMongo;
  let redis: ReturnType<typeof createRedis>;
  let monitorClient: Redis;
  let mongo: MongoClient;
  let count: Counter;
  const clock = new OffsetClock();

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    [redisServer, mongoServer] = await Promise.all([startRedisServer(), startMongoServer()]);
    redis = createRedis(redisServer.url, { timeoutMs: 2000, cluster: false });
    await redis.connect();
    monitorClient = new Redis(redisServer.url);
    mongo = await new MongoClient(mongoServer.url, { monitorCommands: true }).connect();
    const mongoCommands: string[] = [];
    mongo.on('commandStarted', (event) => mongoCommands.push(event.commandName));
    count = async (action) => {
      const monitor = await monitorClient.monitor();
      const redisCommands: string[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua') redisCommands.push(String(args[0]).toLowerCase());
      });
      mongoCommands.length = 0;
      try {
        const result = await action();
        // MONITOR lines trail the replies a little.
        await new Promise((resolve) => setTimeout(resolve, 200));
        return { result, redis: [...redisCommands], mongo: [...mongoCommands] };
      } finally {
        monitor.disconnect();
      }
    };
  });

  after(async () => {
    monitorClient?.disconnect();
    redis?.disconnect();
    await mongo?.close();
    await Promise.all([redisServer?.stop(), mongoServer?.stop()]);
  });

  function servicesOver(factors: FactorStore): MfaServices {
    const keyPrefix = REDIS_KEY_PREFIX;
    return createServices(
      loadConfig({}),
      {
        factors,
        pending: new RedisPendingEnrollmentStore({ redis, clock, keyPrefix }),
        attempts: new RedisAttemptStore({ redis, keyPrefix }),
        revocations: new RedisRevocationCache({ redis, keyPrefix }),
        auditLog: new MongoAuditLog(mongo.db(`round_trips_${process.pid}`)),
      },
      { keyring: new Keyring([{ id: 'k', key: randomBytes(32) }]), clock, random: randomBytes, logger: pino({ level: 'silent' }) },
    );
  }

  async function enroll(services: MfaServices, userId: string): Promise<string> {
    const begun = await services.enrollment.begin({ userId, accountName: '', issuer: '' });
    await services.enrollment.confirm({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, clock.now()) });
    clock.advance(30_000);
    return begun.secret;
  }

  const factorStore = () => new MongoFactorStore(mongo.db(`round_trips_${process.pid}`));

  it('VerifyTotp: one Redis round trip (the settle script) and at most two MongoDB round trips, as on MongoDB', async () => {
    const services = servicesOver(factorStore());
    const secret = await enroll(services, 'rt-alice');
    const { result, redis: redisCommands, mongo: mongoCommands } = await count(() =>
      services.verification.verifyTotp({ userId: 'rt-alice', code: generateTotp(secret, clock.now()), rememberDevice: false, deviceLabel: '' }),
    );
    expect(result.device).to.equal(null);
    expect(redisCommands, 'Redis').to.have.length(1);
    expect(mongoCommands.length, `MongoDB: ${mongoCommands.join(', ')}`).to.be.at.most(2);
  });

  it('VerifyTotp on FerretDB: the per-user write lock adds its two Redis round trips and nothing else', async () => {
    const services = servicesOver(new SerializedFactorStore(factorStore(), new RedisUserLock({ redis, keyPrefix: REDIS_KEY_PREFIX, timeoutMs: 2000 })));
    const secret = await enroll(services, 'rt-bob');
    const { redis: redisCommands, mongo: mongoCommands } = await count(() =>
      services.verification.verifyTotp({ userId: 'rt-bob', code: generateTotp(secret, clock.now()), rememberDevice: false, deviceLabel: '' }),
    );
    expect(redisCommands, 'Redis').to.have.length(3);
    expect(mongoCommands.length, `MongoDB: ${mongoCommands.join(', ')}`).to.be.at.most(2);
  });

  it('CheckSession: one Redis round trip and no MongoDB round trip once Redis has the value', async () => {
    const services = servicesOver(factorStore());
    await enroll(services, 'rt-carol');
    await services.sessions.check('rt-carol', clock.now());
    const { result, redis: redisCommands, mongo: mongoCommands } = await count(() => services.sessions.check('rt-carol', clock.now()));
    expect(result.revoked).to.equal(false);
    expect(redisCommands, 'Redis').to.deep.equal(['get']);
    expect(mongoCommands, 'MongoDB').to.deep.equal([]);
  });
});
