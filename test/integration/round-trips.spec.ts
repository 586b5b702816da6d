import { MongoCredentialClaimStore } from '../../src/stores/mongo/mongo-credential-claim-store.js';
import { RedisWebAuthnChallengeStore } from '../../src/stores/redis/redis-webauthn-challenge-store.js';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { Keyring } from '../../src/domain/keyring.js';
import { generateTotp } from '../../src/domain/totp.js';
import { createServices, type MfaServices } from '../../src/services/create-services.js';
import { MemoryAssertionKeyStore } from '../../src/stores/memory/memory-assertion-key-store.js';
import { MemoryRedemptionStore } from '../../src/stores/memory/memory-redemption-store.js';
import { MemoryNotifier } from '../../src/stores/memory/memory-notifier.js';
import { MongoSecurityEventLog } from '../../src/stores/mongo/mongo-security-event-log.js';
import { MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';
import { isFerretDb } from '../../src/stores/ferretdb/ferretdb.js';
import { openStores, DEFAULT_REDIS_KEY_PREFIX } from '../../src/stores/open-stores.js';
import type { FactorStore, OutboxStore } from '../../src/stores/ports/index.js';
import { createRedis } from '../../src/stores/redis/redis-client.js';
import { RedisAttemptStore } from '../../src/stores/redis/redis-attempt-store.js';
import { RedisPendingEnrollmentStore } from '../../src/stores/redis/redis-pending-enrollment-store.js';
import { RedisLoginCopyStore } from '../../src/stores/redis/redis-login-copy-store.js';
import { RedisRevocationCache } from '../../src/stores/redis/redis-revocation-cache.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisServer, type TestRedis } from '../../dev/redis-server.js';

const DB_NAME = `round_trips_${process.pid}`;

/** Commands each store received while `action` ran: Redis from MONITOR (not counting what scripts run inside), MongoDB from the driver's command events. */
type Counter = <T>(action: () => Promise<T>) => Promise<{ result: T; redis: string[]; mongo: string[] }>;

/**
 * Issue 4's round-trip budget, counted on the real stores: VerifyTotp makes at
 * most one Redis and two MongoDB round trips, and CheckSession one Redis round
 * trip when Redis has the value. The first and last cases use the MongoDB
 * factor store as the service does on MongoDB; the second opens the stores as
 * the service does on this server, where FerretDB gets a per-user Redis lock
 * around durable writes (two more Redis round trips).
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
    const [redisStarted, mongoStarted] = await Promise.allSettled([startRedisServer(), startMongoServer()]);
    if (redisStarted.status === 'fulfilled') redisServer = redisStarted.value;
    if (mongoStarted.status === 'fulfilled') mongoServer = mongoStarted.value;
    if (redisStarted.status === 'rejected') throw redisStarted.reason;
    if (mongoStarted.status === 'rejected') throw mongoStarted.reason;
    redis = createRedis(redisServer.url, { timeoutMs: 2000, cluster: false });
    await redis.connect();
    monitorClient = new Redis(redisServer.url);
    mongo = await new MongoClient(mongoServer.url, { monitorCommands: true }).connect();
    const mongoCommands: string[] = [];
    mongo.on('commandStarted', (event) => mongoCommands.push(event.commandName));
    count = async (action) => {
      const monitor = await monitorClient.monitor();
      const redisCommands: string[] = [];
      const marker = `round-trips-end-${Math.random()}`;
      let markerSeen: () => void = () => {};
      const ended = new Promise<void>((resolve) => (markerSeen = resolve));
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) markerSeen();
        else if (source !== 'lua') redisCommands.push(String(args[0]).toLowerCase());
      });
      mongoCommands.length = 0;
      try {
        const result = await action();
        // MONITOR lines trail the replies: once our own marker shows, every earlier command has.
        await monitorClient.echo(marker);
        await ended;
        return { result, redis: [...redisCommands], mongo: [...mongoCommands] };
      } finally {
        monitor.disconnect();
      }
    };
  });

  after(async () => {
    monitorClient?.disconnect();
    redis?.disconnect();
    // A shared server (MONGO_URL) keeps what we leave: drop our database there.
    if (mongoServer?.shared) await mongo?.db(DB_NAME).dropDatabase();
    await mongo?.close();
    await Promise.all([redisServer?.stop(), mongoServer?.stop()]);
  });

  const deps = { keyring: new Keyring([{ id: 'k', key: randomBytes(32) }]), clock, random: randomBytes, logger: pino({ level: 'silent' }) };

  function servicesOver(factors: FactorStore & OutboxStore): MfaServices {
    const keyPrefix = DEFAULT_REDIS_KEY_PREFIX;
    return createServices(
      loadConfig({}),
      {
        factors,
        pending: new RedisPendingEnrollmentStore({ redis, clock, keyPrefix }),
        attempts: new RedisAttemptStore({ redis, keyPrefix }),
        revocations: new RedisRevocationCache({ redis, keyPrefix }),
        loginCopies: new RedisLoginCopyStore({ redis, keyPrefix, ttlMs: 60_000 }),
        securityEvents: new MongoSecurityEventLog(mongo.db(DB_NAME), { retentionSeconds: 86_400, ttlIndexes: false }),
        // No stream watches here: the notices need not leave the process.
        confirmations: new MemoryNotifier(),
        eventNotices: new MemoryNotifier(),
        assertionKeys: new MemoryAssertionKeyStore(),
        redemptions: new MemoryRedemptionStore(),
        challenges: new RedisWebAuthnChallengeStore({ redis, clock, keyPrefix }),
        credentialClaims: new MongoCredentialClaimStore(mongo.db(DB_NAME)),
      },
      deps,
    );
  }

  async function enroll(services: MfaServices, userId: string): Promise<string> {
    const begun = await services.enrollment.begin({ userId, accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: false });
    await services.confirmation.confirm({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, clock.now()), existingCode: '' });
    clock.advance(30_000);
    return begun.secret;
  }

  const factorStore = () => new MongoFactorStore(mongo.db(DB_NAME));

  it('VerifyTotp: the first login reads MongoDB and takes the Redis copy; the next ones make one MongoDB round trip, the update', async () => {
    const services = servicesOver(factorStore());
    const secret = await enroll(services, 'rt-alice');
    const login = (steps: number) => () =>
      services.verification.verifyTotp({ userId: 'rt-alice', code: generateTotp(secret, new Date(clock.now().getTime() + steps * 30_000)), rememberDevice: false, deviceLabel: '' });
    const first = await count(login(0));
    expect(first.result.device).to.equal(null);
    // The copy (a miss), the copy taken from the record read, the settle script.
    expect(first.redis, 'Redis').to.deep.equal(['getex', 'set', 'eval']);
    expect(first.mongo.length, `MongoDB: ${first.mongo.join(', ')}`).to.equal(2);
    const next = await count(login(1));
    expect(next.result.recoveryCodesRemaining).to.equal(first.result.recoveryCodesRemaining);
    // The copy, the lockout standing (read only); then the one conditional update.
    expect(next.redis, 'Redis').to.have.length(2);
    expect(next.redis[0]).to.equal('getex');
    expect(next.mongo, 'MongoDB').to.deep.equal(['update']);
  });

  it('VerifyTotp with the stores as the service opens them: on FerretDB, its per-user write lock adds two Redis round trips', async () => {
    const stores = await openStores(
      { kind: 'external', redisUrl: redisServer.url, redisCluster: false, redisKeyPrefix: 'mfa:', mongoUrl: mongoServer.url, mongoDb: DB_NAME },
      { clock, logger: pino({ level: 'silent' }), timeoutMs: 2000, eventRetentionSeconds: 86_400, loginCopyTtlMs: 60_000 },
    );
    try {
      const services = createServices(loadConfig({}), stores, deps);
      const secret = await enroll(services, 'rt-bob');
      const login = (steps: number) => () =>
        services.verification.verifyTotp({ userId: 'rt-bob', code: generateTotp(secret, new Date(clock.now().getTime() + steps * 30_000)), rememberDevice: false, deviceLabel: '' });
      const first = await count(login(0));
      const next = await count(login(1));
      const ferretDb = await isFerretDb(mongo.db(DB_NAME));
      expect(first.redis, `Redis, first login (FerretDB: ${ferretDb})`).to.have.length(ferretDb ? 5 : 3);
      expect(next.redis, `Redis, on the copy (FerretDB: ${ferretDb})`).to.have.length(ferretDb ? 4 : 2);
    } finally {
      await stores.close();
    }
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
