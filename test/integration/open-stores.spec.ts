import { expect } from 'chai';
import { pino } from 'pino';
import { freePort } from '../../dev/free-port.js';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisServer, type TestRedis } from '../../dev/redis-server.js';
import { openStores } from '../../src/stores/open-stores.js';
import { eventually } from '../support/eventually.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe('openStores (real Redis and MongoDB-compatible server)', function () {
  let redisServer: TestRedis;
  let mongoServer: TestMongo;
  // Proxies in front of the real servers count the connections the clients keep open.
  let redisProxy: TcpProxy;
  let mongoProxy: TcpProxy;
  let closedPort: number;

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    [redisServer, mongoServer] = await Promise.all([startRedisServer(), startMongoServer()]);
    const mongoTarget = new URL(mongoServer.url);
    redisProxy = await startTcpProxy('127.0.0.1', redisServer.port);
    mongoProxy = await startTcpProxy(mongoTarget.hostname, Number(mongoTarget.port || 27017));
    closedPort = await freePort();
  });

  after(async () => {
    await redisProxy?.close();
    await mongoProxy?.close();
    await Promise.all([redisServer?.stop(), mongoServer?.stop()]);
  });

  const open = (redisUrl: string, mongoUrl: string) =>
    openStores(
      { kind: 'external', redisUrl, redisCluster: false, redisKeyPrefix: 'mfa:', mongoUrl, mongoDb: `mfa_open_${process.pid}` },
      { clock: new OffsetClock(), logger: pino({ level: 'silent' }), timeoutMs: 500, eventRetentionSeconds: 86_400, loginCopyTtlMs: 60_000 },
    ).then(
      async (stores) => {
        await stores.close();
        throw new Error('openStores succeeded');
      },
      (error: unknown) => error as Error,
    );

  context('when MongoDB cannot be reached', () => {
    it('fails naming MongoDB and its address without credentials, and closes the Redis client it opened', async () => {
      const error = await open(`redis://127.0.0.1:${redisProxy.port}`, `mongodb://mfa:hunter2-secret@127.0.0.1:${closedPort}/mfa?directConnection=true`);
      expect(error.message).to.equal(`cannot reach MongoDB at mongodb://127.0.0.1:${closedPort}: connection refused`);
      await eventually(async () => expect(redisProxy.connections(), 'open Redis connections').to.equal(0), 5000);
    });
  });

  context('when Redis cannot be reached', () => {
    it('fails naming Redis and its address without credentials, and closes the MongoDB client it opened', async () => {
      const error = await open(`redis://:hunter2-secret@127.0.0.1:${closedPort}`, `mongodb://127.0.0.1:${mongoProxy.port}/?directConnection=true`);
      expect(error.message).to.equal(`cannot reach Redis at redis://127.0.0.1:${closedPort}: connection refused`);
      await eventually(async () => expect(mongoProxy.connections(), 'open MongoDB connections').to.equal(0), 5000);
    });
  });

  context('when both can be reached', () => {
    it('opens the stores, and close() leaves no connection open', async () => {
      const stores = await openStores(
        { kind: 'external', redisUrl: `redis://127.0.0.1:${redisProxy.port}`, redisCluster: false, redisKeyPrefix: 'mfa:', mongoUrl: `mongodb://127.0.0.1:${mongoProxy.port}/?directConnection=true`, mongoDb: `mfa_open_${process.pid}` },
        // Not 500 ms as above: creating a new database's collections and indexes on FerretDB/SQLite
        // took longer than that once in a full run (a CI-like flake, MongoNetworkTimeoutError).
        { clock: new OffsetClock(), logger: pino({ level: 'silent' }), timeoutMs: 10_000, eventRetentionSeconds: 86_400, loginCopyTtlMs: 60_000 },
      );
      expect(await stores.factors.get('nobody')).to.equal(null);
      expect(redisProxy.connections()).to.be.greaterThan(0);
      await stores.close();
      await eventually(async () => expect([redisProxy.connections(), mongoProxy.connections()]).to.deep.equal([0, 0]), 5000);
    });
  });
});
