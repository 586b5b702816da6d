import { expect } from 'chai';
import { useRealStores, type RealStores } from './e2e-fixture.js';
import { eventually } from './eventually.js';
import { connectClient, type MfaClient } from './grpc-client.js';
import { containing, startTcpProxy, type HeldChunk, type TcpProxy } from './tcp-proxy.js';
import { startTestService, type TestService } from './test-service.js';

/**
 * Text the service sends to its stores, to hold back one kind of command in a
 * proxy. Each names a line of the script or the command it stands for.
 */
export const STORE_COMMANDS = {
  /** ConfirmTotpEnrollment's confirm script (src/stores/redis/redis-pending-enrollment-store.ts). */
  confirmScript: containing('p.c = cjson.decode(ARGV[2])'),
  /** The lockout gate and its settle script (src/stores/redis/redis-attempt-store.ts). */
  attemptScript: containing("if ARGV[1] == 'pass' then"),
  /** A WebAuthn registration's outcome script (src/stores/redis/redis-webauthn-challenge-store.ts). */
  webauthnOutcomeScript: containing("redis.call('PTTL', KEYS[1])"),
  /** A MongoDB `update` command (updateOne, updateMany). */
  mongoUpdate: containing('update\u0000'),
  /** A MongoDB `findAndModify` command (findOneAndUpdate). */
  mongoFindAndModify: containing('findAndModify\u0000'),
} as const;

/** What useProxiedService gives a spec file; filled in its `before`. */
export interface ProxiedService {
  readonly stores: RealStores;
  readonly redisProxy: TcpProxy;
  readonly mongoProxy: TcpProxy;
  /** The service, on the proxies. */
  readonly service: TestService;
  /** A client with the test client's default deadline. */
  readonly client: MfaClient;
  /** A client whose calls end after 300 ms, while a proxy holds a command back. */
  readonly hasty: MfaClient;
  /** Holds back the `match`ed commands about this user (a background relay's writes of other users pass), until released or the test ends. */
  hold(proxy: TcpProxy, match: (chunk: Buffer) => boolean, userId: string): HeldChunk;
  /**
   * Call before a call is cut off; the function it returns resolves once the service has logged the
   * end of one more `method` call than before: the work of a call the client gave up on is over.
   */
  rpcEnds(method: string): () => Promise<void>;
}

/**
 * A service of the spec file's own whose Redis and MongoDB connections run
 * through TCP proxies, on stores of its own (it holds, delays and pauses
 * them, which would break the files running beside it on the shared ones):
 * where interrupted-call specs cut a call off mid-write. After each test,
 * whatever a test held is released, delays are off and Redis runs.
 */
export function useProxiedService(env: Record<string, string> = {}): ProxiedService {
  const stores = useRealStores({ private: true });
  const fixture = { stores } as { -readonly [K in keyof ProxiedService]: ProxiedService[K] };
  let holds: HeldChunk[] = [];

  before(async () => {
    const mongo = new URL(stores.mongoServer.url);
    fixture.redisProxy = await startTcpProxy('127.0.0.1', stores.redisServer.port);
    fixture.mongoProxy = await startTcpProxy(mongo.hostname, Number(mongo.port || 27017));
    fixture.service = await startTestService({
      ...stores.env,
      REDIS_URL: `redis://127.0.0.1:${fixture.redisProxy.port}`,
      MONGO_URL: `mongodb://127.0.0.1:${fixture.mongoProxy.port}/`,
      ...env,
    });
    fixture.client = fixture.service.client;
    fixture.hasty = connectClient(fixture.service.service.port, { deadlineMs: 300 });
    stores.cleanups.push(async () => {
      fixture.hasty.close();
      await fixture.service.stop();
      await Promise.all([fixture.redisProxy.close(), fixture.mongoProxy.close()]);
    });
  });

  afterEach(() => {
    // A failed test must not leave a connection stuck behind its hold, or the next test's store slow or paused.
    for (const held of holds) void held.release();
    holds = [];
    fixture.redisProxy.delay(0);
    fixture.mongoProxy.delay(0);
    stores.redisServer.signal('SIGCONT');
  });

  fixture.hold = (proxy, match, userId) => {
    const held = proxy.hold((chunk) => match(chunk) && chunk.includes(encodeURIComponent(userId)));
    holds.push(held);
    return held;
  };
  fixture.rpcEnds = (method) => {
    const count = () => fixture.service.logs.filter((line) => line.includes('"msg":"rpc"') && line.includes(`"method":"${method}"`)).length;
    const before = count();
    return async () => {
      await eventually(async () => expect(count(), `${method} calls ended`).to.be.greaterThan(before), 10_000);
    };
  };
  return fixture;
}
