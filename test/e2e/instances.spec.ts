import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { generateTotp } from '../../src/domain/totp.js';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { decodeFailure, expectFailure } from '../support/grpc-client.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const inSteps = (steps: number) => new Date(Date.now() + steps * 30_000);

describe('Several service processes sharing Redis and MongoDB', function () {
  this.timeout(120_000);
  const stores = useRealStores();
  let a: ServiceProcess;
  let b: ServiceProcess;

  before(async () => {
    [a, b] = await Promise.all([startServiceProcess(stores.env), startServiceProcess(stores.env)]);
    stores.cleanups.push(() => Promise.all([a.stop(), b.stop()]));
  });

  it('confirms on one instance an enrollment begun on another', async () => {
    const userId = newUserId();
    const begun = await a.client.beginTotpEnrollment({ userId });
    await b.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, new Date()) });
    expect((await a.client.getMfaStatus({ userId })).enabled).to.equal(true);
  });

  it('accepts exactly one of 20 simultaneous VerifyTotp calls with the same code, spread over two instances', async () => {
    const userId = newUserId();
    const begun = await a.client.beginTotpEnrollment({ userId });
    await a.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, new Date()) });
    // The next period's code is within the one-step window and newer than the confirming one.
    const code = generateTotp(begun.secret, inSteps(1));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).client.verifyTotp({ userId, code })),
    );
    const succeeded = results.filter((r) => r.status === 'fulfilled');
    expect(succeeded).to.have.length(1);
    // The losers lost a replay race; enough of them lock the user, which is also a refusal.
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [decodeFailure(r.reason as ServiceError)] : []));
    for (const failure of refusals) {
      expect(`${status[failure.code]}/${failure.reason}`).to.be.oneOf(['PERMISSION_DENIED/CODE_REUSED', 'RESOURCE_EXHAUSTED/LOCKED_OUT']);
    }
  });

  it('accepts exactly one of 10 simultaneous uses of the same recovery code, spread over two instances', async () => {
    const userId = newUserId();
    const begun = await a.client.beginTotpEnrollment({ userId });
    const { recoveryCodes } = await a.client.confirmTotpEnrollment({
      userId,
      enrollmentId: begun.enrollmentId,
      code: generateTotp(begun.secret, new Date()),
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).client.verifyRecoveryCode({ userId, recoveryCode: recoveryCodes[0] })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    expect((await b.client.getMfaStatus({ userId })).recoveryCodesRemaining).to.equal(9);
  });

  it('shares the lockout count between instances', async () => {
    const userId = newUserId();
    const begun = await a.client.beginTotpEnrollment({ userId });
    await a.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, new Date()) });
    const right = generateTotp(begun.secret, inSteps(1));
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i += 1) {
      await expectFailure((i % 2 === 0 ? a : b).client.verifyTotp({ userId, code: wrong }), status.PERMISSION_DENIED, 'INVALID_CODE');
    }
    await expectFailure(b.client.verifyTotp({ userId, code: wrong }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
    await expectFailure(a.client.verifyTotp({ userId, code: right }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
  });

  it('keeps a pending enrollment and MFA state across a restart, and exits 0 on SIGTERM', async () => {
    const userId = newUserId();
    const enabledUser = newUserId();
    const first = await a.client.beginTotpEnrollment({ userId: enabledUser });
    await a.client.confirmTotpEnrollment({ userId: enabledUser, enrollmentId: first.enrollmentId, code: generateTotp(first.secret, new Date()) });
    const begun = await a.client.beginTotpEnrollment({ userId });

    expect(await a.stop()).to.equal(0);
    a = await startServiceProcess(stores.env);

    await a.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, new Date()) });
    await a.client.verifyTotp({ userId: enabledUser, code: generateTotp(first.secret, inSteps(1)) });
  });
});
