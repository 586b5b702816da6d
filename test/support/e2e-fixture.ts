import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { generateTotp } from '../../src/domain/totp.js';
import type { MfaClient } from './grpc-client.js';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisServer, type TestRedis } from '../../dev/redis-server.js';
import { startTestService, type TestService } from './test-service.js';
import type { OffsetClock } from './fake-clock.js';

/** Real Redis and MongoDB-compatible servers for one spec file, and direct clients to inspect them. */
export interface RealStores {
  redisServer: TestRedis;
  mongoServer: TestMongo;
  redis: Redis;
  mongo: MongoClient;
  mongoDb: string;
  /** The env that points a service at these stores. */
  env: Record<string, string>;
  /** Run (last first) before the servers stop, so clients never outlive them. */
  cleanups: Array<() => Promise<unknown>>;
}

/** Starts the stores before the file's tests and stops them after; the returned object fills in `before`. */
export function useRealStores(): RealStores {
  const stores = { cleanups: [] } as unknown as RealStores;
  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    const [redisServer, mongoServer] = await Promise.all([startRedisServer(), startMongoServer()]);
    const mongoDb = `mfa_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
    Object.assign(stores, {
      redisServer,
      mongoServer,
      // The inspecting client outlives outage tests: its reconnect errors are expected.
      redis: new Redis(redisServer.url).on('error', () => {}),
      mongo: await new MongoClient(mongoServer.url).connect(),
      mongoDb,
      env: { REDIS_URL: redisServer.url, MONGO_URL: mongoServer.url, MONGO_DB: mongoDb },
    });
  });
  after(async () => {
    for (const cleanup of stores.cleanups.reverse()) await cleanup();
    stores.redis?.disconnect();
    await stores.mongo?.close();
    await Promise.all([stores.redisServer?.stop(), stores.mongoServer?.stop()]);
  });
  return stores;
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

let userCounter = 0;
/** A user id no other test uses. */
export function newUserId(label = 'user'): string {
  userCounter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${userCounter}`;
}

/** The code the user's app shows now (by the server's clock), `steps` periods ahead. */
export function codeAt(secret: string, clock: OffsetClock, steps = 0): string {
  return generateTotp(secret, new Date(clock.now().getTime() + steps * 30_000));
}

export interface EnrolledUser {
  readonly userId: string;
  readonly secret: string;
  readonly recoveryCodes: string[];
}

/** Enrolls a new user end to end and moves the clock one period on, so the next code is fresh. */
export async function enrollUser(client: MfaClient, clock: OffsetClock, userId = newUserId()): Promise<EnrolledUser> {
  const begun = await client.beginTotpEnrollment({ userId });
  const confirmed = await client.confirmTotpEnrollment({
    userId,
    enrollmentId: begun.enrollmentId,
    code: codeAt(begun.secret, clock),
  });
  clock.advance(30_000);
  return { userId, secret: begun.secret, recoveryCodes: confirmed.recoveryCodes };
}
