import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisServer, type TestRedis } from '../../dev/redis-server.js';

/**
 * Mocha global fixture (registered in .mocharc.json): ONE redis-server and ONE
 * MongoDB-compatible server for the whole run, instead of a pair per spec file.
 * Their URLs go into process.env, which mocha's parallel workers inherit (they
 * are forked after global setup); useRealStores() gives each file its own
 * database and Redis key prefix on them. MONGO_URL still points the run at an
 * external mongod.
 */
export const SHARED_REDIS_URL = 'MFA_TEST_SHARED_REDIS_URL';
export const SHARED_MONGO_URL = 'MFA_TEST_SHARED_MONGO_URL';
export const SHARED_MONGO_KIND = 'MFA_TEST_SHARED_MONGO_KIND';

let servers: { redis: TestRedis; mongo: TestMongo } | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  // The first run may build FerretDB (minutes: see the README's Prerequisites); its progress shows on stderr.
  const [redis, mongo] = await Promise.all([startRedisServer(), startMongoServer()]);
  servers = { redis, mongo };
  process.env[SHARED_REDIS_URL] = redis.url;
  process.env[SHARED_MONGO_URL] = mongo.url;
  process.env[SHARED_MONGO_KIND] = mongo.kind;
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (servers === undefined) return;
  await Promise.all([servers.redis.stop(), servers.mongo.stop()]);
  for (const name of [SHARED_REDIS_URL, SHARED_MONGO_URL, SHARED_MONGO_KIND]) delete process.env[name];
}
