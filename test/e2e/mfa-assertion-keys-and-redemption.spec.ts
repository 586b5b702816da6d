import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { codeAt, enrollUser, useRealStores } from '../support/e2e-fixture.js';
import { bearer, expectFailure, outcomeOf } from '../support/grpc-client.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/test-service.js';

const ISSUER = 'https://mfa.test.internal';
const DAY = 86_400_000;
const REQUEST = { audience: 'payments', purpose: 'payments.transfer', transaction: Buffer.alloc(0) };
const PAYMENTS_TOKEN = 'payments-token-0123456789abcdef';
const LOGIN_TOKEN = 'login-token-0123456789abcdefgh';

describe('MFA assertion keys across instances, and single use across instances (issue 25)', function () {
  this.timeout(90_000);
  // Private servers: the redemption test flushes Redis.
  const stores = useRealStores({ private: true });
  const started: TestService[] = [];
  /** An instance on this file's stores, in database `db` (each test its own, so each starts with no keys). */
  const start = async (db: string, env: Record<string, string> = {}) => {
    const svc = await startTestService({ ...stores.env, MONGO_DB: `${stores.mongoDb}_${db}`, MFA_ASSERTION_ISSUER: ISSUER, ...env });
    started.push(svc);
    return svc;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });
  const keyDocuments = (db: string) => stores.mongo.db(`${stores.mongoDb}_${db}`).collection('mfa_assertion_keys').find({ _id: { $ne: 'anchor' as never } }).toArray();
  const jwksOf = async (svc: TestService) => JSON.parse((await svc.client.getMfaAssertionKeys({})).jwksJson) as { keys: Array<{ kid: string }> };
  const assertionOf = async (svc: TestService, user: { userId: string; secret: string }, request = REQUEST) => {
    const verified = await svc.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, svc.clock), mfaAssertionRequest: request });
    svc.clock.advance(30_000);
    return verified.mfaAssertion;
  };

  it('has two instances started at once make one key (and one next key), and sign with it', async () => {
    const [a, b] = await Promise.all([start('pair'), start('pair')]);
    const [ka, kb] = await Promise.all([a.client.getMfaAssertionKeys({}), b.client.getMfaAssertionKeys({})]);
    expect(JSON.parse(ka.jwksJson)).to.deep.equal(JSON.parse(kb.jwksJson));
    const documents = await keyDocuments('pair');
    expect(documents.map((d) => d['_id']).sort()).to.deep.equal(['slot-0', 'slot-1']);
    for (const document of documents) expect(String(document['sealedPrivateKey'])).to.match(/^v1\.test1\./);
    const user = await enrollUser(a.client, a.clock);
    const ta = await assertionOf(a, user);
    b.clock.offsetMs = a.clock.offsetMs;
    const tb = await assertionOf(b, user);
    expect(decodeProtectedHeader(ta).kid).to.equal(decodeProtectedHeader(tb).kid);
  });

  it('rotates on the schedule (moved clock): the next key is published a period before it signs; older tokens verify until they expire', async () => {
    const svc = await start('rotation', { MFA_ASSERTION_KEY_ROTATION_DAYS: '1' });
    const user = await enrollUser(svc.client, svc.clock);
    const first = await assertionOf(svc, user);
    const before = await jwksOf(svc);
    expect(before.keys).to.have.length(2);
    const [k0, k1] = before.keys.map((k) => k.kid);
    expect(decodeProtectedHeader(first).kid).to.equal(k0);
    // Just before the rotation: still k0. (enrollUser and the assertion moved the clock a minute.)
    svc.clock.advance(DAY - 60_000 - 45_000);
    const lastOfK0 = await assertionOf(svc, user);
    expect(decodeProtectedHeader(lastOfK0).kid).to.equal(k0);
    svc.clock.advance(60_000);
    const firstOfK1 = await assertionOf(svc, user);
    expect(decodeProtectedHeader(firstOfK1).kid, 'signs with the key published a day before').to.equal(k1);
    const after = await jwksOf(svc);
    expect(after.keys.map((k) => k.kid)).to.include.members([k0!, k1!]);
    expect(after.keys, 'and publishes the one after it').to.have.length(3);
    const verify = (token: string) =>
      jwtVerify(token, createLocalJWKSet(after as never), { issuer: ISSUER, audience: 'payments', currentDate: svc.clock.now() });
    expect((await verify(lastOfK0)).payload.sub).to.equal(user.userId);
    await verify(firstOfK1);
    // A token of k0 stops verifying when it expires, not earlier and not later.
    svc.clock.advance(240_000);
    await expectFailure(svc.client.redeemMfaAssertion({ mfaAssertion: lastOfK0, audience: 'payments', redemptionId: 'late' }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
  });

  it('after a keyring rotation, reseals the next signing key with the new current key and keeps signing', async () => {
    const old = await start('keyring');
    await old.client.getMfaAssertionKeys({});
    await old.stop();
    started.splice(0);
    const newKey = `test2:${randomBytes(32).toString('base64')}`;
    const rotated = await start('keyring', { MFA_ENCRYPTION_KEYS: `${newKey},${TEST_KEYS}` });
    const user = await enrollUser(rotated.client, rotated.clock);
    const token = await assertionOf(rotated, user);
    const sealedWith = (await keyDocuments('keyring')).map((d) => [d['_id'], String(d['sealedPrivateKey']).split('.')[1]]);
    expect(Object.fromEntries(sealedWith)).to.deep.equal({ 'slot-0': 'test1', 'slot-1': 'test2' });
    expect(decodeProtectedHeader(token).kid).to.equal((await jwksOf(rotated)).keys[0]!.kid);
  });

  it('fails INTERNAL when the instance can open no signing key, before the code is checked: nothing spent, nothing counted', async () => {
    const first = await start('stranger');
    await first.client.getMfaAssertionKeys({});
    await first.stop();
    started.splice(0);
    // An instance whose keyring lacks the key the signing keys were sealed with.
    const stranger = await start('stranger', { MFA_ENCRYPTION_KEYS: `test9:${randomBytes(32).toString('base64')}` });
    const user = await enrollUser(stranger.client, stranger.clock);
    const code = codeAt(user.secret, stranger.clock);
    const wrong = codeAt(user.secret, stranger.clock, -10);
    await expectFailure(stranger.client.verifyTotp({ userId: user.userId, code: wrong, mfaAssertionRequest: REQUEST }), status.INTERNAL, 'INTERNAL');
    await expectFailure(stranger.client.verifyTotp({ userId: user.userId, code, mfaAssertionRequest: REQUEST }), status.INTERNAL, 'INTERNAL');
    await expectFailure(stranger.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0]!, mfaAssertionRequest: REQUEST }), status.INTERNAL, 'INTERNAL');
    expect(await stores.redis.exists(stores.key(user.userId, 'failures')), 'the wrong code was not counted').to.equal(0);
    expect(JSON.parse((await stranger.client.getMfaAssertionKeys({})).jwksJson), 'it publishes no key it cannot check').to.deep.equal({ keys: [] });
    expect((await stranger.client.verifyTotp({ userId: user.userId, code })).verifiedAt, 'the code was not spent').to.not.equal(undefined);
    expect((await stranger.client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(10);
  });

  it('redeems once across two instances: 20 racing redemptions give one OK; a retry with its redemption_id is OK; after FLUSHALL still refused', async () => {
    const [a, b] = await Promise.all([start('redeem'), start('redeem')]);
    const user = await enrollUser(a.client, a.clock);
    const token = await assertionOf(a, user);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => outcomeOf((i % 2 === 0 ? a : b).client.redeemMfaAssertion({ mfaAssertion: token, audience: 'payments', redemptionId: `race-${i}` }))),
    );
    expect(outcomes.filter((o) => o === 'OK')).to.have.length(1);
    expect(outcomes.filter((o) => o !== 'OK')).to.deep.equal(Array(19).fill('FAILED_PRECONDITION/ASSERTION_ALREADY_USED'));
    const winner = `race-${outcomes.indexOf('OK')}`;
    const retried = await b.client.redeemMfaAssertion({ mfaAssertion: token, audience: 'payments', redemptionId: winner });
    expect(retried.userId).to.equal(user.userId);
    await stores.redis.flushall();
    for (const svc of [a, b]) {
      await expectFailure(svc.client.redeemMfaAssertion({ mfaAssertion: token, audience: 'payments', redemptionId: 'after-flush' }), status.FAILED_PRECONDITION, 'ASSERTION_ALREADY_USED');
    }
    const stored = await stores.mongo.db(`${stores.mongoDb}_redeem`).collection('mfa_assertion_redemptions').find().toArray();
    expect(stored.map((d) => [d['_id'], d['redemptionId']])).to.deep.equal([[retried.assertionId, winner]]);
  });

  it('with caller tokens, lets only the caller named by the audience redeem it (another caller cannot burn it)', async () => {
    const svc = await start('callers', { MFA_AUTH_TOKENS: `payments:${PAYMENTS_TOKEN},login:${LOGIN_TOKEN}` });
    const login = bearer(LOGIN_TOKEN);
    const begun = await svc.client.beginTotpEnrollment({ userId: 'carol' }, login);
    await svc.client.confirmTotpEnrollment({ userId: 'carol', enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, svc.clock) }, login);
    svc.clock.advance(30_000);
    const { mfaAssertion } = await svc.client.verifyTotp({ userId: 'carol', code: codeAt(begun.secret, svc.clock), mfaAssertionRequest: REQUEST }, login);
    const redeem = (redemptionId: string) => ({ mfaAssertion, audience: 'payments', redemptionId });
    await expectFailure(svc.client.redeemMfaAssertion(redeem('by-login'), bearer(LOGIN_TOKEN)), status.PERMISSION_DENIED, 'CALLER_NOT_AUDIENCE');
    expect((await svc.client.redeemMfaAssertion(redeem('by-payments'), bearer(PAYMENTS_TOKEN))).userId).to.equal('carol');
  });
});
