import { expect } from 'chai';
import { ScureBase32Plugin } from '@otplib/plugin-base32-scure';
import { SECURITY_EVENTS_COLLECTION } from '../../src/stores/mongo/mongo-security-event-log.js';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { bearer, connectClient } from '../support/grpc-client.js';
import { codeAt, newUserId, useRealStores, useService, type RealStores } from '../support/e2e-fixture.js';

/** Every way a secret value could be written: as given, and for the TOTP secret its raw bytes in hex and base64. */
function spellings(secretBase32: string, others: string[]): string[] {
  const raw = Buffer.from(new ScureBase32Plugin().decode(secretBase32));
  const codes = others.flatMap((v) => [v, v.replace('-', ''), v.toLowerCase()]);
  return [secretBase32, raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), ...codes];
}

async function dumpStores(stores: RealStores): Promise<string> {
  const db = stores.mongo.db(stores.mongoDb);
  const docs = [
    ...(await db.collection(FACTORS_COLLECTION).find({}).toArray()),
    ...(await db.collection(SECURITY_EVENTS_COLLECTION).find({}).toArray()),
  ];
  const keys = await stores.redis.keys(`${stores.keyPrefix}*`);
  const values = await Promise.all(keys.map(async (key) => `${key}=${await stores.redis.get(key)}`));
  return JSON.stringify(docs) + values.join('\n');
}

describe('Secrets at rest and in logs (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  const TOKEN = 'secret-scan-token-0123456789';
  const svc = useService(stores, { MFA_AUTH_TOKENS: `login-service:${TOKEN}`, MFA_ADMIN_CALLERS: 'login-service' });

  it('never stores a TOTP secret, recovery code or device token in clear, and never logs one or a bearer token', async () => {
    const { clock, logs } = svc.current;
    const client = connectClient(svc.current.service.port, { metadata: () => bearer(TOKEN) });
    stores.cleanups.push(async () => client.close());
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
    await client.forgetRememberedDevice({ userId, deviceId: (await client.listRememberedDevices({ userId })).devices[0]!.deviceId });
    await client.disableMfa({ userId, code: regenerated.recoveryCodes[0] });
    await client.listAuditEvents({ userId });
    const finalDump = await dumpStores(stores);
    expect(finalDump, 'the security events are in MongoDB').to.contain('MFA_DISABLED');
    expect(finalDump, 'MFA state is in MongoDB').to.contain(userId);

    const secrets = spellings(begun.secret, [...confirmed.recoveryCodes, ...regenerated.recoveryCodes, verified.deviceToken, TOKEN]);
    for (const secret of secrets) {
      expect(pendingDump, 'Redis while the enrollment is pending').to.not.contain(secret);
      expect(finalDump, 'MongoDB and Redis after the lifecycle').to.not.contain(secret);
    }

    const logged = logs.join('');
    expect(logged).to.contain('"method":"RegenerateRecoveryCodes"');
    for (const secret of secrets) expect(logged).to.not.contain(secret);
    // A 6-digit code could occur by chance inside a timestamp or duration: look for it as a value.
    for (const code of [confirmCode, verifyCode, regenerateCode]) expect(logged).to.not.match(new RegExp(`[":= ]${code}["\\s,}]`));
  });
});
