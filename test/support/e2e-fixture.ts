import type { Metadata } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { createMfaClient, type MfaClient as PublicMfaClient } from '../../src/client/index.js';
import { generateTotp } from '../../src/domain/totp.js';
import type { MfaClient } from './grpc-client.js';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisServer, type TestRedis } from '../../dev/redis-server.js';
import { SHARED_MONGO_KIND, SHARED_MONGO_URL, SHARED_REDIS_URL } from './global-stores.js';
import { startTestService, type TestService } from './test-service.js';

/** Real Redis and MongoDB-compatible servers for one spec file, and direct clients to inspect them. */
export interface RealStores {
  redisServer: TestRedis;
  mongoServer: TestMongo;
  redis: Redis;
  mongo: MongoClient;
  mongoDb: string;
  /** What every Redis key and channel of this file's services starts with (MFA_REDIS_KEY_PREFIX). */
  keyPrefix: string;
  /** The Redis key of one of a user's records, e.g. `key(userId, 'write-lock')`, under this file's prefix. */
  key(userId: string, kind: string): string;
  /** The env that points a service at these stores. */
  env: Record<string, string>;
  /** Run (last first) before the servers stop, so clients never outlive them. */
  cleanups: Array<() => Promise<unknown>>;
}

export interface RealStoresOptions {
  /**
   * Servers of this file's own instead of the run's shared pair (test/support/global-stores.ts).
   * Needed by a spec that stops, restarts, pauses (SIGSTOP), flushes or proxies a store: on the
   * shared servers that would break the files running beside it. Say why next to the call.
   */
  readonly private?: boolean;
  /**
   * With `private`: FerretDB keeps the data in this PostgreSQL database (which must exist), not in
   * SQLite. Its `_id` index is the caller's to create, once the collections exist
   * (mongoServer.createPostgresIndexes).
   */
  readonly postgresUrl?: string;
}

/**
 * The stores for one spec file: by default its own database and Redis key prefix on the servers
 * the global fixture started for the whole run, dropped after; with `private: true`, servers of
 * its own, started before its tests and stopped after. The returned object fills in `before`.
 */
export function useRealStores(options: RealStoresOptions = {}): RealStores {
  const stores = { cleanups: [] } as unknown as RealStores;
  let ownServers = false;
  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    let redisServer: TestRedis;
    let mongoServer: TestMongo;
    if (options.private === true) {
      [redisServer, mongoServer] = await Promise.all([startRedisServer(), startMongoServer({ postgresUrl: options.postgresUrl })]);
      ownServers = true;
    } else {
      ({ redisServer, mongoServer } = sharedServers());
    }
    const tag = `${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    const mongoDb = `mfa_test_${tag}`;
    const keyPrefix = `mfa-test-${tag}:`;
    Object.assign(stores, {
      redisServer,
      mongoServer,
      // The inspecting client outlives outage tests: its reconnect errors are expected.
      redis: new Redis(redisServer.url).on('error', () => {}),
      mongo: await new MongoClient(mongoServer.url).connect(),
      mongoDb,
      keyPrefix,
      key: (userId: string, kind: string) => `${keyPrefix}{${encodeURIComponent(userId)}}:${kind}`,
      env: { REDIS_URL: redisServer.url, MONGO_URL: mongoServer.url, MONGO_DB: mongoDb, MFA_REDIS_KEY_PREFIX: keyPrefix },
    });
  });
  after(async function () {
    this.timeout(60_000);
    for (const cleanup of stores.cleanups.reverse()) await cleanup();
    if (!ownServers && stores.redis !== undefined) {
      // Shared servers outlive this file: leave nothing of it behind.
      await stores.mongo.db(stores.mongoDb).dropDatabase();
      await deleteKeys(stores.redis, `${stores.keyPrefix}*`);
    }
    stores.redis?.disconnect();
    await stores.mongo?.close();
    if (ownServers) await Promise.all([stores.redisServer?.stop(), stores.mongoServer?.stop()]);
  });
  return stores;
}

/** The run's shared servers, as TestRedis and TestMongo whose stop, restart and signal fail loudly. */
function sharedServers(): { redisServer: TestRedis; mongoServer: TestMongo } {
  const redisUrl = process.env[SHARED_REDIS_URL];
  const mongoUrl = process.env[SHARED_MONGO_URL];
  if (redisUrl === undefined || mongoUrl === undefined) {
    throw new Error(`no shared test stores (${SHARED_REDIS_URL}): run mocha with .mocharc.json, whose require starts them (test/support/global-stores.ts)`);
  }
  const refuse = (what: string) => () => {
    throw new Error(`${what} on the run's shared servers would break other spec files: use useRealStores({ private: true })`);
  };
  return {
    redisServer: { url: redisUrl, port: Number(new URL(redisUrl).port), stop: refuse('stop'), restart: refuse('restart'), signal: refuse('signal') },
    mongoServer: {
      url: mongoUrl,
      kind: process.env[SHARED_MONGO_KIND] as TestMongo['kind'],
      shared: true,
      stop: refuse('stop'),
      restart: refuse('restart'),
      // The shared server is FerretDB on SQLite or an external MONGO_URL: no PostgreSQL indexes to make.
      createPostgresIndexes: async () => {},
    },
  };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Starts an in-process service on the stores for each test group and stops it after. */
export function useService(stores: RealStores, env: Record<string, string> = {}): { current: TestService } {
  const holder = {} as { current: TestService };
  before(async () => {
    holder.current = await startTestService({ ...stores.env, ...env });
    stores.cleanups.push(() => holder.current.stop());
  });
  return holder;
}

/**
 * Starts an in-process service on the embedded in-memory stores (no REDIS_URL or MONGO_URL) for
 * each test group and stops it after: for specs that never look at a store. Its clock is the
 * test's, so expiry and lockouts pass by `clock.advance()`, not by sleeping.
 */
export function useMemoryService(env: Record<string, string> = {}): { current: TestService } {
  const holder = {} as { current: TestService };
  before(async () => {
    holder.current = await startTestService(env);
  });
  after(() => holder.current?.stop());
  return holder;
}

/** The public typed client (mfa-service/client) of a service that `service` starts, as other teams call it. */
export function usePublicClient(service: { readonly current: TestService }): { current: PublicMfaClient } {
  const holder = {} as { current: PublicMfaClient };
  before(() => {
    holder.current = createMfaClient({ address: `127.0.0.1:${service.current.service.port}` });
  });
  after(() => holder.current?.close());
  return holder;
}

let userCounter = 0;
/** A user id no other test uses. */
export function newUserId(label = 'user'): string {
  userCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${userCounter}`;
}

/** The code the user's app shows now (by the server's clock), `steps` periods ahead. */
export function codeAt(secret: string, clock: TestClock, steps = 0): string {
  return generateTotp(secret, new Date(clock.now().getTime() + steps * 30_000));
}

/** The service's clock as a test sees it: an OffsetClock it can move, or a service process's real one. */
export interface TestClock {
  now(): Date;
  advance?(ms: number): void;
}

/** The real clock, for a service running as its own process. */
export const REAL_CLOCK: TestClock = { now: () => new Date() };

export interface EnrolledUser {
  readonly userId: string;
  readonly secret: string;
  readonly recoveryCodes: string[];
  readonly authenticatorId: string;
}

export interface EnrollOptions {
  /** Metadata of both calls (a caller's token, a request id). */
  readonly metadata?: Metadata;
  /** Move the clock one period on after, so the user's next code is fresh (default true; a real clock never moves). */
  readonly advanceClock?: boolean;
}

/** Enrolls a new user end to end (Begin, then Confirm with the current code) and moves the clock one period on. */
export async function enrollUser(client: MfaClient, clock: TestClock, userId = newUserId(), options: EnrollOptions = {}): Promise<EnrolledUser> {
  // Without metadata of its own, each call sends the client's (undefined picks its default).
  const { metadata } = options;
  const begun = await client.beginTotpEnrollment({ userId }, metadata);
  const confirmed = await client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock) }, metadata);
  if (options.advanceClock !== false) clock.advance?.(30_000);
  return { userId, secret: begun.secret, recoveryCodes: confirmed.recoveryCodes, authenticatorId: begun.authenticatorId };
}
