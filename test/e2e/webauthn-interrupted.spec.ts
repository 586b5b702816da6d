import { expect } from 'chai';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { newUserId } from '../support/e2e-fixture.js';
import { outcomeOf } from '../support/grpc-client.js';
import { STORE_COMMANDS, useProxiedService } from '../support/proxied-service.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

const { webauthnOutcomeScript, attemptScript, mongoUpdate, mongoFindAndModify } = STORE_COMMANDS;
const ORIGIN = 'https://app.example.com';

describe('Interrupted WebAuthn calls burn nothing durable the caller did not see (real stores behind proxies)', function () {
  this.timeout(120_000);
  const proxied = useProxiedService({ MFA_WEBAUTHN_RP_ID: 'example.com', MFA_WEBAUTHN_ORIGINS: ORIGIN });
  const { stores, hold, rpcEnds } = proxied;

  const signCountOf = async (userId: string) => {
    const doc = await stores.mongo.db(stores.mongoDb).collection(FACTORS_COLLECTION).findOne({ _id: userId as never });
    return Object.values(doc!['authenticators'] as Record<string, { signCount: number }>)[0]!.signCount;
  };
  const register = async (userId: string, key: SoftAuthenticator) => {
    const begun = await proxied.client.beginWebAuthnRegistration({ userId, userName: 'ada' });
    return proxied.client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson) });
  };
  const assertion = async (userId: string, key: SoftAuthenticator) => {
    const begun = await proxied.client.beginWebAuthnAuthentication({ userId });
    return { challengeId: begun.challengeId, credentialJson: key.assert(begun.optionsJson) };
  };

  for (const [where, proxy, match] of [
    ['recording its outcome', () => proxied.redisProxy, webauthnOutcomeScript],
    ['turning MFA on', () => proxied.mongoProxy, mongoUpdate],
  ] as const) {
    it(`finishes a registration cut off while ${where}: the retry answers what the first recorded, once`, async () => {
      const userId = newUserId('key-cut');
      const key = new SoftAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
      const begun = await proxied.client.beginWebAuthnRegistration({ userId, userName: 'ada' });
      const credentialJson = key.register(begun.optionsJson);
      const held = hold(proxy(), match, userId);
      const ended = rpcEnds('FinishWebAuthnRegistration');
      expect(await outcomeOf(proxied.hasty.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson }))).to.equal('DEADLINE_EXCEEDED');
      await held.release();
      await ended();
      const first = await proxied.client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson });
      const again = await proxied.client.finishWebAuthnRegistration({ userId, registrationId: begun.registrationId, credentialJson });
      expect(again).to.deep.equal(first);
      expect(await proxied.client.getMfaStatus({ userId })).to.deep.include({ enabled: true, authenticators: 1, recoveryCodesRemaining: 10 });
      expect((await proxied.client.verifyRecoveryCode({ userId, recoveryCode: first.recoveryCodes[9] })).recoveryCodesRemaining).to.equal(9);
      await proxied.client.verifyWebAuthn({ userId, assertion: await assertion(userId, key) });
    });
  }

  it('moves no counter when VerifyWebAuthn is cut off before its durable spend; its challenge is used, a new one works', async () => {
    const userId = newUserId('key-verify-cut');
    const key = new SoftAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
    await register(userId, key);
    const used = await assertion(userId, key);
    const gate = hold(proxied.redisProxy, attemptScript, userId);
    const ended = rpcEnds('VerifyWebAuthn');
    expect(await outcomeOf(proxied.hasty.verifyWebAuthn({ userId, assertion: used }))).to.equal('DEADLINE_EXCEEDED');
    await gate.release();
    await ended();
    expect(await signCountOf(userId)).to.equal(0);
    expect(await outcomeOf(proxied.client.verifyWebAuthn({ userId, assertion: used }))).to.equal('NOT_FOUND/CHALLENGE_NOT_FOUND');
    await proxied.client.verifyWebAuthn({ userId, assertion: await assertion(userId, key) });
    expect(await signCountOf(userId)).to.equal(2);
  });

  it('keeps the counter a cut-off VerifyWebAuthn committed, and the key goes on working', async () => {
    const userId = newUserId('key-verify-landed');
    const key = new SoftAuthenticator({ origin: ORIGIN, rpId: 'example.com' });
    await register(userId, key);
    const spend = hold(proxied.mongoProxy, mongoFindAndModify, userId);
    const ended = rpcEnds('VerifyWebAuthn');
    expect(await outcomeOf(proxied.hasty.verifyWebAuthn({ userId, assertion: await assertion(userId, key) }))).to.equal('DEADLINE_EXCEEDED');
    await spend.release();
    await ended();
    expect(await signCountOf(userId)).to.equal(1);
    await proxied.client.verifyWebAuthn({ userId, assertion: await assertion(userId, key) });
    expect(await signCountOf(userId)).to.equal(2);
  });
});
