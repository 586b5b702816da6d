import { expect } from 'chai';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisServer, type TestRedis } from '../../dev/redis-server.js';

async function pingRedis(url: string): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {}); // connect() rejects with the same error; keep it out of the test output
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    redis.disconnect();
  }
}

async function pingMongo(url: string): Promise<unknown> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    return (await client.db('admin').command({ ping: 1 }))['ok'];
  } finally {
    await client.close();
  }
}

async function errorFrom(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('test servers', function () {
  let redis: TestRedis | undefined;
  let mongo: TestMongo | undefined;

  before(async function () {
    // The first run builds FerretDB with Go when no MONGO_URL or mongod is available.
    this.timeout(180_000);
    redis = await startRedisServer();
    mongo = await startMongoServer();
  });

  after(async function () {
    await redis?.stop();
    await mongo?.stop();
  });

  context('Redis', function () {
    it('answers PING once started', async function () {
      expect(await pingRedis(redis!.url)).to.equal('PONG');
    });

    it('refuses connections while stopped and answers again after restart on the same URL', async function () {
      await redis!.stop();
      expect(await errorFrom(() => pingRedis(redis!.url))).to.be.instanceOf(Error);
      await redis!.restart();
      expect(await pingRedis(redis!.url)).to.equal('PONG');
    });
  });

  context('MongoDB-compatible server', function () {
    it('answers ping once started', async function () {
      expect(await pingMongo(mongo!.url)).to.equal(1);
    });

    it('keeps its data across a restart on the same URL', async function () {
      if (mongo!.kind === 'external') {
        // restart is not ours to do on somebody else's server; say so rather than pass silently
        const error = await errorFrom(() => mongo!.restart());
        expect(error).to.be.instanceOf(Error).with.property('message').that.contains('cannot restart');
        return;
      }
      const client = new MongoClient(mongo!.url);
      try {
        await client.db('test_servers').collection('marks').insertOne({ name: 'before-restart' });
      } finally {
        await client.close();
      }
      await mongo!.restart();
      const again = new MongoClient(mongo!.url);
      try {
        expect(await pingMongo(mongo!.url)).to.equal(1);
        const found = await again.db('test_servers').collection('marks').findOne({ name: 'before-restart' });
        expect(found?.['name']).to.equal('before-restart');
      } finally {
        await again.close();
      }
    });
  });
});
