import { pino } from 'pino';
import { openStores, type Stores } from '../../src/stores/open-stores.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startMongoServer, type TestMongo } from '../support/mongo-server.js';
import { startRedisCluster, type TestRedisCluster } from '../support/redis-cluster.js';
import { storeContract } from './store-contract.js';

// The same contract on a three-master Redis Cluster: every script's keys share the user's hash tag.
describe('Redis Cluster and MongoDB adapters', function () {
  let cluster: TestRedisCluster;
  let mongoServer: TestMongo;
  let stores: Stores;
  const clock = new OffsetClock();

  before(async function () {
    this.timeout(300_000);
    [cluster, mongoServer] = await Promise.all([startRedisCluster(), startMongoServer()]);
    stores = await openStores(
      { kind: 'external', redisUrl: cluster.url, redisCluster: true, mongoUrl: mongoServer.url, mongoDb: `mfa_cluster_${process.pid}` },
      { clock, logger: pino({ level: 'silent' }), timeoutMs: 2000 },
    );
  });

  after(async () => {
    await stores?.close();
    await Promise.all([cluster?.stop(), mongoServer?.stop()]);
  });

  storeContract('Redis Cluster + MongoDB', () => ({
    clock,
    factors: stores.factors,
    pending: stores.pending,
    attempts: stores.attempts,
    revocations: stores.revocations,
    auditLog: stores.auditLog,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));
});
