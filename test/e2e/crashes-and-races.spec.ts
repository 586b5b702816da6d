import { randomBytes } from 'node:crypto';
import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { generateTotp } from '../../src/domain/totp.js';
import { enrollUser, newUserId, useRealStores } from '../support/e2e-fixture.js';
import { outcomeOf } from '../support/grpc-client.js';
import { startServiceProcess } from '../support/service-process.js';
import { startTestService, TEST_KEYS } from '../support/test-service.js';

/**
 * Retries a call that answers UNAVAILABLE, as callers are told to: on FerretDB, a killed instance can leave
 * a user's write lock held until its TTL frees it (RedisUserLock, in the FerretDB store adapter).
 */
async function retryingUnavailable<T>(call: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited += 500) {
    try {
      return await call();
    } catch (error) {
      if ((error as ServiceError).code !== status.UNAVAILABLE || waited > 30_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

describe('Crashes and races (real stores, real service processes)', function () {
  this.timeout(180_000);
  // Servers of its own: 90 Confirms at once and a killed instance's held locks load FerretDB hard;
  // on the run's shared servers, other files' calls would time out beside them, and theirs.
  const stores = useRealStores({ private: true });

  it('loses no enrollment and no recovery codes when an instance is killed (SIGKILL) during 90 concurrent Confirms', async () => {
    const env = { ...stores.env, MFA_ENROLLMENT_TTL_SECONDS: '600' };
    const first = await startServiceProcess(env);
    const users = await Promise.all(
      Array.from({ length: 90 }, async () => {
        const userId = newUserId('killed');
        const begun = await retryingUnavailable(() => first.client.beginTotpEnrollment({ userId }));
        return { userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, new Date()) };
      }),
    );
    const answers = new Map<string, { recoveryCodes: string[]; enabledAt: number }>();
    let kill: () => void = () => {};
    const killed = new Promise<void>((resolve) => (kill = resolve));
    const calls = users.map((u) =>
      first.client.confirmTotpEnrollment(u).then(
        (confirmed) => {
          answers.set(u.userId, { recoveryCodes: confirmed.recoveryCodes, enabledAt: confirmed.enabledAt!.getTime() });
          if (answers.size === 10) kill();
        },
        // The calls the kill cuts off fail; the retries below must finish them.
        () => {},
      ),
    );
    // The kill comes after the tenth answer, never on a timer: so some users have an answer to compare the retry with.
    const allSettled = Promise.all(calls).then(() => {
      throw new Error(`only ${answers.size} of 90 Confirms answered, and the kill needs 10`);
    });
    await Promise.race([killed, allSettled]);
    await first.signal('SIGKILL');
    await Promise.all(calls);
    // Some answered and some were cut off: otherwise this test proves nothing.
    expect(answers.size).to.be.at.least(10).and.lessThan(90);

    const second = await startServiceProcess(env);
    stores.cleanups.push(() => second.stop());
    let compared = 0;
    for (const u of users) {
      const retried = await retryingUnavailable(() => second.client.confirmTotpEnrollment(u));
      // A user whose Confirm answered before the kill gets the same answer again; the others get their first.
      const seen = answers.get(u.userId);
      if (seen !== undefined) {
        expect(retried.recoveryCodes, u.userId).to.deep.equal(seen.recoveryCodes);
        expect(retried.enabledAt!.getTime(), u.userId).to.equal(seen.enabledAt);
        compared += 1;
      }
      expect((await second.client.getMfaStatus({ userId: u.userId })).enabled).to.equal(true);
      const used = await retryingUnavailable(() => second.client.verifyRecoveryCode({ userId: u.userId, recoveryCode: retried.recoveryCodes[0] }));
      expect(used.recoveryCodesRemaining).to.equal(9);
    }
    expect(compared, 'users whose retry was compared with the answer before the kill').to.equal(answers.size);
  });

  it('keeps MFA_MAX_REMEMBERED_DEVICES when ten calls remember a device at once', async () => {
    const service = await startTestService({ ...stores.env, MFA_MAX_REMEMBERED_DEVICES: '3' });
    stores.cleanups.push(() => service.stop());
    const { client } = service;
    const user = await enrollUser(client, service.clock);
    const results = await Promise.all(
      user.recoveryCodes.map((recoveryCode, i) =>
        outcomeOf(client.verifyRecoveryCode({ userId: user.userId, recoveryCode, rememberDevice: true, deviceLabel: `device ${i}` })),
      ),
    );
    // On FerretDB the per-user write lock serializes the ten writes; one may time out waiting (retryable).
    expect(results.filter((r) => r === 'OK').length).to.be.at.least(3);
    for (const r of results) expect(r).to.be.oneOf(['OK', 'UNAVAILABLE/STORE_UNAVAILABLE']);
    const { devices } = await client.listRememberedDevices({ userId: user.userId });
    expect(devices).to.have.length(3);
  });

  it('fails recovery codes INTERNAL, naming the lost key in the log, without counting a lockout, when the key that hashed them is gone', async () => {
    const owner = await startTestService({ ...stores.env, MFA_MAX_FAILED_ATTEMPTS: '2' });
    stores.cleanups.push(() => owner.stop());
    const user = await enrollUser(owner.client, owner.clock);
    const lostKey = await startTestService({
      ...stores.env,
      MFA_MAX_FAILED_ATTEMPTS: '2',
      MFA_ENCRYPTION_KEYS: `other:${randomBytes(32).toString('base64')}`,
    });
    stores.cleanups.push(() => lostKey.stop());
    for (let i = 0; i < 3; i += 1) {
      expect(await outcomeOf(lostKey.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] }))).to.equal('INTERNAL/INTERNAL');
      expect(await outcomeOf(lostKey.client.disableMfa({ userId: user.userId, code: user.recoveryCodes[1] }))).to.equal('INTERNAL/INTERNAL');
    }
    const keyId = TEST_KEYS.split(':')[0]!;
    expect(lostKey.logs.join('').match(new RegExp(`key \\\\?"${keyId}\\\\?"`, 'g')) ?? []).to.have.length.of.at.least(6);
    expect((await owner.client.getMfaStatus({ userId: user.userId })).lockedUntil).to.equal(undefined);
    expect((await owner.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] })).recoveryCodesRemaining).to.equal(9);
  });
});
