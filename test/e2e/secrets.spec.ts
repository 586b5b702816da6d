import { expect } from 'chai';
import { ScureBase32Plugin } from '@otplib/plugin-base32-scure';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { codeAt, newUserId, useRealStores, useService, type RealStores } from '../support/e2e-fixture.js';

/** Every way a secret value could be written: as given, and for the TOTP secret its raw bytes in hex and base64. */
function spellings(secretBase32: string, others: string[]): string[] {
  const raw = Buffer.from(new ScureBase32Plugin().decode(secretBase32));
  const codes = others.flatMap((v) => [v, v.replace('-', ''), v.toLowerCase()]);
  return [secretBase32, raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), ...codes];
}

async function dumpStores(stores: RealStores): Promise<string> {
  const docs = await stores.mongo.db(stores.mongoDb).collection(FACTORS_COLLECTION).find({}).toArray();
  const keys = await stores.redis.keys('*');
  const values = await Promise.all(keys.map(async (key) => `${key}=${await stores.redis.get(key)}`));
  return JSON.stringify(docs) + values.join('\n');
}

describe('Secrets at rest and in logs (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  const svc = useService(stores);

  it('never stores a TOTP secret, recovery code or device token in clear, and never logs one', async () => {
    const { client, clock, logs } = svc.current;
    const userId = newUserId('secret-scan');
    const begun = await client.beginTotpEnrollment({ userId });
    const pendingDump = await dumpStores(stores);
    expect(pendingDump, 'the pending enrollment is in Redis').to.contain(begun.enrollmentId);

    const confirmCode = codeAt(begun.secret, clock);
    const confirmed = await client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: confirmCode });
    clock.advance(30_000);
    const verifyCode = codeAt(begun.secret, clock);
    const verified = await client.verifyTotp({ userId, code: verifyCode, rememberDevice: true, deviceLabel: 'laptop' });
    await client.checkRememberedDevice({ userId, deviceToken: verified.deviceToken });
    await client.verifyRecoveryCode({ userId, recoveryCode: confirmed.recoveryCodes[0] });
    clock.advance(30_000);
    const regenerateCode = codeAt(begun.secret, clock);
    const regenerated = await client.regenerateRecoveryCodes({ userId, code: regenerateCode });
    const finalDump = await dumpStores(stores);
    expect(finalDump, 'MFA state is in MongoDB').to.contain(userId);

    const secrets = spellings(begun.secret, [...confirmed.recoveryCodes, ...regenerated.recoveryCodes, verified.deviceToken]);
    for (const secret of secrets) {
      expect(pendingDump, 'Redis while the enrollment is pending').to.not.contain(secret);
      expect(finalDump, 'MongoDB and Redis after the lifecycle').to.not.contain(secret);
    }

    const logged = logs.join('');
    expect(logged).to.contain('"method":"RegenerateRecoveryCodes"');
    for (const secret of secrets) expect(logged).to.not.contain(secret);
    for (const code of [confirmCode, verifyCode, regenerateCode]) expect(logged).to.not.contain(`"${code}"`);
  });
});
