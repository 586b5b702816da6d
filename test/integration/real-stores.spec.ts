import { pino } from 'pino';
import { openStores, type Stores } from '../../src/stores/open-stores.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startMongoServer, type TestMongo } from '../support/mongo-server.js';
import { startRedisServer, type TestRedis } from '../support/redis-server.js';
import { storeContract } from './store-contract.js';

// The adapters exactly as the service opens them (on FerretDB, with its per-user write serialization).
describe('Redis and MongoDB adapters', function () {
  let redisServer: TestRedis;
  let mongoServer: TestMongo;
  let stores: Stores;
  const clock = new OffsetClock();

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    [redisServer, mongoServer] = await Promise.all([startRedisServer(), startMongoServer()]);
    stores = await openStores(
      { kind: 'external', redisUrl: redisServer.url, redisCluster: false, mongoUrl: mongoServer.url, mongoDb: `mfa_contract_${process.pid}` },
      { clock, logger: pino({ level: 'silent' }), timeoutMs: 2000 },
    );
  });

  after(async () => {
    await stores?.close();
    await Promise.all([redisServer?.stop(), mongoServer?.stop()]);
  });

  storeContract('Redis + MongoDB', () => ({
    clock,
    factors: stores.factors,
    pending: stores.pending,
    attempts: stores.attempts,
    revocations: stores.revocations,
    auditLog: stores.auditLog,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));
});
