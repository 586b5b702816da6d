import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { MongoAuditLog } from '../../src/stores/mongo/mongo-audit-log.js';
import { MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';
import { RedisAttemptStore } from '../../src/stores/redis/redis-attempt-store.js';
import { RedisPendingEnrollmentStore } from '../../src/stores/redis/redis-pending-enrollment-store.js';
import { RedisRevocationCache } from '../../src/stores/redis/redis-revocation-cache.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startMongoServer, type TestMongo } from '../support/mongo-server.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { storeContract } from './store-contract.js';

describe('Redis and MongoDB adapters', function () {
  let redisServer: TestRedis;
  let mongoServer: TestMongo;
  let redis: Redis;
  let mongo: MongoClient;

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    [redisServer, mongoServer] = await Promise.all([startRedisServer(), startMongoServer()]);
    redis = new Redis(redisServer.url);
    mongo = new MongoClient(mongoServer.url);
    await mongo.connect();
    await new MongoAuditLog(mongo.db(`mfa_contract_${process.pid}`)).ensureIndexes();
  });

  after(async () => {
    redis?.disconnect();
    await mongo?.close();
    await Promise.all([redisServer?.stop(), mongoServer?.stop()]);
  });

  storeContract('Redis + MongoDB', () => {
    const clock = new OffsetClock();
    const keyPrefix = 'contract:';
    const db = mongo.db(`mfa_contract_${process.pid}`);
    return {
      clock,
      factors: new MongoFactorStore(db),
      auditLog: new MongoAuditLog(db),
      pending: new RedisPendingEnrollmentStore({ redis, clock, keyPrefix }),
      attempts: new RedisAttemptStore({ redis, keyPrefix }),
      revocations: new RedisRevocationCache({ redis, keyPrefix }),
      elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  });
});
