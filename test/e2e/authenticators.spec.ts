import { randomBytes } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { LEGACY_AUTHENTICATOR_ID } from '../../src/domain/authenticators.js';
import { parseKeyring } from '../../src/domain/keyring.js';
import { RecoveryCodes } from '../../src/domain/recovery-codes.js';
import { SecretBox, totpSecretContext } from '../../src/domain/secret-box.js';
import { encodeSecret, generateTotp } from '../../src/domain/totp.js';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { codeAt, enrollUser, newUserId, useRealStores, useService } from '../support/e2e-fixture.js';
import { decodeFailure, expectFailure, type MfaClient } from '../support/grpc-client.js';
import { startServiceProcess } from '../support/service-process.js';
import { TEST_KEYS } from '../support/test-service.js';
import type { OffsetClock } from '../support/fake-clock.js';

/** Adds an authenticator to an enrolled user, confirmed with a code of the secret `existing`, or the recovery code `existing`. */
async function addAuthenticator(client: MfaClient, clock: OffsetClock, userId: string, existing: string, label: string) {
  const begun = await client.beginTotpEnrollment({ userId, authenticatorLabel: label, addAuthenticator: true });
  const confirmed = await client.confirmTotpEnrollment({
    userId,
    enrollmentId: begun.enrollmentId,
    code: codeAt(begun.secret, clock),
    // A TOTP secret (base32) gives its current code; anything else is a recovery code.
    existingCode: /^[A-Z2-7]{32}$/.test(existing) ? codeAt(existing, clock) : existing,
  });
  return { secret: begun.secret, authenticatorId: confirmed.authenticatorId, confirmed };
}

describe('Several authenticators per user (gRPC, real Redis and MongoDB)', function () {
  this.timeout(120_000);
  const stores = useRealStores();
  const svc = useService(stores, { MFA_MAX_AUTHENTICATORS: '3' });

  it('adds, lists, uses, renames and removes authenticators; removing revokes sessions, the last one stays', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    const sessionsBefore = (await client.getMfaStatus({ userId: user.userId })).sessionsRevokedAt!;
    const backup = await addAuthenticator(client, clock, user.userId, user.secret, 'Backup phone');
    expect(backup.confirmed.recoveryCodes).to.deep.equal([]);
    expect(backup.confirmed.sessionsRevokedAt).to.equal(undefined);
    expect((await client.getMfaStatus({ userId: user.userId })).sessionsRevokedAt!.getTime()).to.equal(sessionsBefore.getTime());

    const { authenticators } = await client.listAuthenticators({ userId: user.userId });
    expect(authenticators.map((a) => a.label)).to.deep.equal(['Authenticator app', 'Backup phone']);
    expect(authenticators[1]!.lastUsedAt).to.equal(undefined);
    expect(JSON.stringify(authenticators)).to.not.contain(backup.secret);
    expect((await client.getMfaStatus({ userId: user.userId })).authenticators).to.equal(2);

    clock.advance(30_000);
    const verified = await client.verifyTotp({ userId: user.userId, code: codeAt(backup.secret, clock) });
    expect(verified.authenticatorId).to.equal(backup.authenticatorId);
    const renamed = await client.renameAuthenticator({ userId: user.userId, authenticatorId: backup.authenticatorId, label: 'Old phone' });
    expect(renamed.authenticator).to.deep.include({ authenticatorId: backup.authenticatorId, label: 'Old phone' });
    expect(renamed.authenticator!.lastUsedAt!.getTime()).to.equal(verified.verifiedAt!.getTime());

    // The lost phone is removed with a code of the phone that is left.
    const removed = await client.removeAuthenticator({ userId: user.userId, authenticatorId: backup.authenticatorId, code: codeAt(user.secret, clock) });
    expect((await client.checkSession({ userId: user.userId, sessionIssuedAt: new Date(removed.removedAt!.getTime() - 1) })).revoked).to.equal(true);
    await expectFailure(client.verifyTotp({ userId: user.userId, code: codeAt(backup.secret, clock, 1) }), status.PERMISSION_DENIED, 'INVALID_CODE');
    const [last] = (await client.listAuthenticators({ userId: user.userId })).authenticators;
    await expectFailure(
      client.removeAuthenticator({ userId: user.userId, authenticatorId: last!.authenticatorId, code: user.recoveryCodes[0] }),
      status.FAILED_PRECONDITION,
      'LAST_AUTHENTICATOR',
    );
    await expectFailure(
      client.removeAuthenticator({ userId: user.userId, authenticatorId: backup.authenticatorId, code: user.recoveryCodes[0] }),
      status.NOT_FOUND,
      'AUTHENTICATOR_NOT_FOUND',
    );
    await expectFailure(client.renameAuthenticator({ userId: user.userId, authenticatorId: 'aut_zzzzzzzzzzzzzzzz', label: 'x' }), status.NOT_FOUND, 'AUTHENTICATOR_NOT_FOUND');
  });

  it('refuses add_authenticator without MFA, without existing_code, and beyond MFA_MAX_AUTHENTICATORS', async () => {
    const { client, clock } = svc.current;
    await expectFailure(client.beginTotpEnrollment({ userId: newUserId(), addAuthenticator: true }), status.FAILED_PRECONDITION, 'MFA_NOT_ENABLED');
    const user = await enrollUser(client, clock);
    await expectFailure(client.beginTotpEnrollment({ userId: user.userId }), status.ALREADY_EXISTS, 'MFA_ALREADY_ENABLED');
    const begun = await client.beginTotpEnrollment({ userId: user.userId, addAuthenticator: true });
    const missing = await expectFailure(
      client.confirmTotpEnrollment({ userId: user.userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, clock) }),
      status.INVALID_ARGUMENT,
      'INVALID_REQUEST',
    );
    expect(missing.badFields).to.deep.equal(['existing_code', 'webauthn_assertion']);
    await addAuthenticator(client, clock, user.userId, user.secret, 'two');
    clock.advance(30_000);
    await addAuthenticator(client, clock, user.userId, user.secret, 'three');
    await expectFailure(client.beginTotpEnrollment({ userId: user.userId, addAuthenticator: true }), status.FAILED_PRECONDITION, 'AUTHENTICATOR_LIMIT');
  });

  it('reads a user stored in the first version\'s shape as one "Authenticator app", and rewrites it on the first write', async () => {
    const { client, clock } = svc.current;
    const userId = newUserId('legacy');
    const keyring = parseKeyring(TEST_KEYS);
    const secret = randomBytes(20);
    const codes = new RecoveryCodes(keyring, randomBytes).issue(userId);
    const enabledAt = new Date(Date.UTC(2026, 9, 1));
    // Exactly what the first version wrote: one secret, sealed bound to the user alone; no version.
    await stores.mongo.db(stores.mongoDb).collection(FACTORS_COLLECTION).insertOne({
      _id: userId as never,
      enabled: true,
      enabledAt,
      sealedSecret: new SecretBox(keyring, randomBytes).seal(secret, `mfa.v1/totp-secret/${userId}`),
      lastTimeStep: 0,
      recoveryCodes: codes.set,
      devices: {},
      sessionsRevokedAt: enabledAt,
    });
    expect(totpSecretContext(userId, LEGACY_AUTHENTICATOR_ID)).to.equal(`mfa.v1/totp-secret/${userId}`);
    const { authenticators } = await client.listAuthenticators({ userId });
    expect(authenticators).to.have.length(1);
    expect(authenticators[0]).to.deep.include({ authenticatorId: LEGACY_AUTHENTICATOR_ID, label: 'Authenticator app' });
    expect(authenticators[0]!.createdAt!.getTime()).to.equal(enabledAt.getTime());

    const verified = await client.verifyTotp({ userId, code: codeAt(encodeSecret(secret), clock) });
    expect(verified.authenticatorId).to.equal(LEGACY_AUTHENTICATOR_ID);
    const raw = await stores.mongo.db(stores.mongoDb).collection(FACTORS_COLLECTION).findOne({ _id: userId as never });
    expect(raw).to.have.property('authenticators');
    expect(raw).to.not.have.property('sealedSecret');
    await expectFailure(client.verifyTotp({ userId, code: codeAt(encodeSecret(secret), clock) }), status.PERMISSION_DENIED, 'CODE_REUSED');
    await client.verifyRecoveryCode({ userId, recoveryCode: codes.codes[0] });
    const added = await addAuthenticator(client, clock, userId, encodeSecret(secret), 'new phone').catch((e: ServiceError) => e);
    // The legacy code of this period was spent above: the add is confirmed with the next one.
    expect(decodeFailure(added as ServiceError).reason).to.equal('CODE_REUSED');
    clock.advance(30_000);
    await addAuthenticator(client, clock, userId, encodeSecret(secret), 'new phone');
    expect((await client.listAuthenticators({ userId })).authenticators.map((a) => a.authenticatorId)[0]).to.equal(LEGACY_AUTHENTICATOR_ID);
  });

  it('keeps replay protection per authenticator across instances: one of 20 simultaneous uses of a code wins, the other authenticator is unaffected', async () => {
    // Lenient lockout: the 19 losers count as replays, and must not lock the user before the last check.
    const env = { ...stores.env, MFA_MAX_FAILED_ATTEMPTS: '100' };
    const [a, b] = await Promise.all([startServiceProcess(env), startServiceProcess(env)]);
    stores.cleanups.push(() => Promise.all([a.stop(), b.stop()]));
    // The processes run on real time.
    const inSteps = (steps: number) => new Date(Date.now() + steps * 30_000);
    const userId = newUserId('replay');
    const first = await a.client.beginTotpEnrollment({ userId });
    const { recoveryCodes } = await a.client.confirmTotpEnrollment({ userId, enrollmentId: first.enrollmentId, code: generateTotp(first.secret, inSteps(0)) });
    const second = await b.client.beginTotpEnrollment({ userId, addAuthenticator: true, authenticatorLabel: 'second' });
    const added = await b.client.confirmTotpEnrollment({
      userId,
      enrollmentId: second.enrollmentId,
      code: generateTotp(second.secret, inSteps(0)),
      existingCode: recoveryCodes[0],
    });
    // Both authenticators spent the current period at enrollment; the next period's codes are fresh for both.
    const code = generateTotp(first.secret, inSteps(1));
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).client.verifyTotp({ userId, code })));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) {
      if (r.status === 'rejected') {
        const failure = decodeFailure(r.reason as ServiceError);
        expect(`${status[failure.code]}/${failure.reason}`).to.equal('PERMISSION_DENIED/CODE_REUSED');
      }
    }
    // The other authenticator's code of that same period is still fresh.
    const other = await b.client.verifyTotp({ userId, code: generateTotp(second.secret, inSteps(1)) });
    expect(other.authenticatorId).to.equal(added.authenticatorId);
  });

  it('accepts a code of the other authenticator in the same period after one authenticator spent it', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    // existing_code may be a recovery code too; if the call fails, its own error fails the test.
    const other = await addAuthenticator(client, clock, user.userId, user.recoveryCodes[0]!, 'other');
    clock.advance(30_000);
    const first = await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock) });
    const second = await client.verifyTotp({ userId: user.userId, code: codeAt(other.secret, clock) });
    expect([first.authenticatorId, second.authenticatorId]).to.deep.equal([(await client.listAuthenticators({ userId: user.userId })).authenticators[0]!.authenticatorId, other.authenticatorId]);
    await expectFailure(client.verifyTotp({ userId: user.userId, code: codeAt(other.secret, clock) }), status.PERMISSION_DENIED, 'CODE_REUSED');
  });
});
