import { pino } from 'pino';
import { openStores, type Stores } from '../../src/stores/open-stores.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisCluster } from '../../dev/redis-cluster.js';
import { startRedisServer } from '../../dev/redis-server.js';
import { storeContract } from './store-contract.js';

/**
 * Runs the store contract on the adapters exactly as the service opens them
 * (on FerretDB, with its per-user write serialization), over a Redis that
 * `startRedis` provides.
 */
function realStoresContract(name: string, startRedis: () => Promise<{ url: string; cluster: boolean; stop(): Promise<void> }>): void {
  describe(`${name} and MongoDB adapters`, function () {
    let redis: { url: string; cluster: boolean; stop(): Promise<void> };
    let mongoServer: TestMongo;
    let stores: Stores;
    // A second instance on the same servers, for what goes between instances.
    let otherInstance: Stores;
    const clock = new OffsetClock();

    before(async function () {
      this.timeout(300_000); // the first run may build FerretDB
      [redis, mongoServer] = await Promise.all([startRedis(), startMongoServer()]);
      const open = () =>
        openStores(
          { kind: 'external', redisUrl: redis.url, redisCluster: redis.cluster, redisKeyPrefix: 'mfa:', mongoUrl: mongoServer.url, mongoDb: `mfa_contract_${process.pid}_${redis.cluster}` },
          { clock, logger: pino({ level: 'silent' }), timeoutMs: 2000, eventRetentionSeconds: 86_400, loginCopyTtlMs: 300 },
        );
      [stores, otherInstance] = await Promise.all([open(), open()]);
    });

    after(async () => {
      await Promise.all([stores?.close(), otherInstance?.close()]);
      await Promise.all([redis?.stop(), mongoServer?.stop()]);
    });

    storeContract(`${name} + MongoDB`, () => ({
      clock,
      factors: stores.factors,
      pending: stores.pending,
      attempts: stores.attempts,
      revocations: stores.revocations,
      loginCopies: stores.loginCopies,
      securityEvents: stores.securityEvents,
      assertionKeys: stores.assertionKeys,
      redemptions: stores.redemptions,
      challenges: stores.challenges,
      credentialClaims: stores.credentialClaims,
      notifiers: [stores.confirmations, otherInstance.confirmations],
      elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }));
  });
}

realStoresContract('Redis', async () => ({ ...(await startRedisServer()), cluster: false }));
// A three-master cluster: every script's keys must share the user's hash tag.
realStoresContract('Redis Cluster', async () => ({ ...(await startRedisCluster()), cluster: true }));
