import { expect } from 'chai';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { connectClient, outcomeOf, type MfaClient } from '../support/grpc-client.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { containing, startTcpProxy, type HeldChunk, type TcpProxy } from '../support/tcp-proxy.js';
import { startTestService, type TestService } from '../support/test-service.js';

// Text the service sends to its stores, to hold back one kind of command (see src/stores/redis/*, mongo/*).
const OUTCOME_SCRIPT = containing("redis.call('PTTL', KEYS[1])");
const LOCKOUT_SCRIPT = containing("if ARGV[1] == 'pass' then");
const MONGO_UPDATE = containing('update\u0000');
const MONGO_FIND_AND_MODIFY = containing('findAndModify\u0000');
const ORIGIN = 'https://app.example.com';

describe('Interrupted WebAuthn calls burn nothing durable the caller did not see (real stores behind proxies)', function () {
  this.timeout(120_000);
  // Servers of its own: it holds commands back in TCP proxies in front of them.
  const stores = useRealStores({ private: true });
  let redisProxy: TcpProxy;
  let mongoProxy: TcpProxy;
  let service: TestService;
  let client: MfaClient;
  /** A client whose calls end after 300 ms, while a proxy holds a command back. */
  let hasty: MfaClient;
  let holds: HeldChunk[] = [];

  before(async () => {
    const mongo = new URL(stores.mongoServer.url);
    redisProxy = await startTcpProxy('127.0.0.1', stores.redisServer.port);
    mongoProxy = await startTcpProxy(mongo.hostname, Number(mongo.port || 27017));
    service = await startTestService({
      ...stores.env,
      REDIS_URL: `redis://127.0.0.1:${redisProxy.port}`,
      MONGO_URL: `mongodb://127.0.0.1:${mongoProxy.port}/`,
      MFA_WEBAUTHN_RP_ID: 'example.com',
      MFA_WEBAUTHN_ORIGINS: ORIGIN,
    });
    client = service.client;
    hasty = connectClient(service.service.port, { deadlineMs: 300 });
    stores.cleanups.push(async () => {
      hasty.close();
      await service.stop();
      await Promise.all([redisProxy.close(), mongoProxy.close()]);
    });
  });

  afterEach(() => {
    for (const held of holds) void held.release();
    holds = [];
  });

  const hold = (proxy: TcpProxy, match: (chunk: Buffer) => boolean, userId: string) => {
    const held = proxy.hold((chunk) => match(chunk) && chunk.includes(encodeURIComponent(userId)));
    holds.push(held);
    return held;
  };
  /** Resolves once the service has logged the end of one more `method` call than before. */
  const rpcEnds = (method: string) => {
    const count = () => service.logs.filter((line) => line.includes('"msg":"rpc"') && line.includes(`"method":"${method}"`)).length;
    const before = count();
    return () => eventually(async () => expect(count(), `${method} calls ended`).to.be.greaterThan(before), 10_000);
  };
  const signCountOf = async (userId: string) => {
    const doc = await stores.mongo.db(stores.mongoDb).collection(FACTORS_COLLECTION).findOne({ _id: userId as never });
    return Object.values(doc!['authenticators'] as Record<string, { signCount: number }>)[0]!.signCount;
  };
  const register = async (userId: string, key: SoftAuthenticator) => {
    const begun = await client.beginWebAuthnRegistration({ userId, userName: 'ada' });
    return client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson) });
  };
  const assertion = async (userId: string, key: SoftAuthenticator) => {
    const begun = await client.beginWebAuthnAuthentication({ userId });
    return { challengeId: begun.challengeId, credentialJson: key.assert(begun.optionsJson) };
  };

  for (const [where, proxy, match] of [
    ['recording its outcome', () => redisProxy, OUTCOME_SCRIPT],
    ['turning MFA on', () => mongoProxy, MONGO_UPDATE],
  ] as const) {
    it(`finishes a registration cut off while ${where}: the retry answers what the first recorded, once`, async () => {
      const userId = newUserId('key-cut');
      const key = new SoftAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
      const begun = await client.beginWebAuthnRegistration({ userId, userName: 'ada' });
      const credentialJson = key.register(begun.optionsJson);
      const held = hold(proxy(), match, userId);
      const ended = rpcEnds('FinishWebAuthnRegistration');
      expect(await outcomeOf(hasty.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson }))).to.equal('DEADLINE_EXCEEDED');
      await held.release();
      await ended();
      const first = await client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson });
      const again = await client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson });
      expect(again).to.deep.equal(first);
      expect(await client.getMfaStatus({ userId })).to.deep.include({ enabled: true, authenticators: 1, recoveryCodesRemaining: 10 });
      expect((await client.verifyRecoveryCode({ userId, recoveryCode: first.recoveryCodes[9] })).recoveryCodesRemaining).to.equal(9);
      await client.verifyWebAuthn({ userId, assertion: await assertion(userId, key) });
    });
  }

  it('moves no counter when VerifyWebAuthn is cut off before its durable spend; its challenge is used, a new one works', async () => {
    const userId = newUserId('key-verify-cut');
    const key = new SoftAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
    await register(userId, key);
    const used = await assertion(userId, key);
    const gate = hold(redisProxy, LOCKOUT_SCRIPT, userId);
    const ended = rpcEnds('VerifyWebAuthn');
    expect(await outcomeOf(hasty.verifyWebAuthn({ userId, assertion: used }))).to.equal('DEADLINE_EXCEEDED');
    await gate.release();
    await ended();
    expect(await signCountOf(userId)).to.equal(0);
    expect(await outcomeOf(client.verifyWebAuthn({ userId, assertion: used }))).to.equal('NOT_FOUND/CHALLENGE_NOT_FOUND');
    await client.verifyWebAuthn({ userId, assertion: await assertion(userId, key) });
    expect(await signCountOf(userId)).to.equal(2);
  });

  it('keeps the counter a cut-off VerifyWebAuthn committed, and the key goes on working', async () => {
    const userId = newUserId('key-verify-landed');
    const key = new SoftAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
    await register(userId, key);
    const spend = hold(mongoProxy, MONGO_FIND_AND_MODIFY, userId);
    const ended = rpcEnds('VerifyWebAuthn');
    expect(await outcomeOf(hasty.verifyWebAuthn({ userId, assertion: await assertion(userId, key) }))).to.equal('DEADLINE_EXCEEDED');
    await spend.release();
    await ended();
    expect(await signCountOf(userId)).to.equal(1);
    await client.verifyWebAuthn({ userId, assertion: await assertion(userId, key) });
    expect(await signCountOf(userId)).to.equal(2);
  });
});
