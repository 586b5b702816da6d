import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

/**
 * Builds the pinned grpcurl (grpcurl.spec, walkthrough.spec) now, before the
 * workers start, so that no build competes for the CPU with the timing-
 * sensitive files (the benchmark smoke run sizes its users on a rate it
 * measures) halfway through a first run.
 */
async function ensureGrpcurl(): Promise<void> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'ensure-tool.sh');
  await promisify(execFile)(script, ['grpcurl'], { timeout: 600_000 });
}

export async function mochaGlobalSetup(): Promise<void> {
  // The first run may build FerretDB and grpcurl (minutes: see the README's Prerequisites).
  const [redis, mongo] = await Promise.all([startRedisServer(), startMongoServer(), ensureGrpcurl()]);
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
