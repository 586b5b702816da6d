import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createMfaClient, MfaClientError, type MfaClient } from '../../src/client/index.js';
import { codeAt, enrollUser, newUserId } from '../support/e2e-fixture.js';
import { startTestService, type TestService } from '../support/test-service.js';

/** "123456" as authenticator apps show it. */
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

describe('Codes as people type them (embedded stores)', () => {
  let svc: TestService;
  let mfa: MfaClient;

  before(async () => {
    svc = await startTestService({});
    mfa = createMfaClient({ address: `127.0.0.1:${svc.service.port}` });
  });

  after(async () => {
    mfa.close();
    await svc.stop();
  });

  /** The field violations of a call that must fail INVALID_ARGUMENT. */
  async function violations(call: Promise<unknown>): Promise<Array<{ field: string; description: string }>> {
    const error = await call.then(
      () => expect.fail('the call succeeded'),
      (caught: unknown) => caught,
    );
    expect(error).to.be.instanceOf(MfaClientError);
    expect((error as MfaClientError).code).to.equal(status.INVALID_ARGUMENT);
    return (error as MfaClientError).fieldViolations.map(({ field, description }) => ({ field, description }));
  }

  describe('a TOTP code with spaces ("123 456", as the app shows it)', () => {
    it('confirms an enrollment, logs in and regenerates recovery codes as the same 6 digits', async () => {
      const userId = newUserId('spaced');
      const begun = await svc.client.beginTotpEnrollment({ userId });
      await mfa.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: spaced(codeAt(begun.secret, svc.clock)) });
      svc.clock.advance(30_000);
      const verified = await mfa.verifyTotp({ userId, code: ` ${spaced(codeAt(begun.secret, svc.clock))} ` });
      expect(verified.verifiedAt).to.be.instanceOf(Date);
      svc.clock.advance(30_000);
      const { recoveryCodes } = await mfa.regenerateRecoveryCodes({ userId, code: spaced(codeAt(begun.secret, svc.clock)) });
      expect(recoveryCodes).to.have.length(10);
    });

    it('is checked as its digits: the same code again, spaced differently, is CODE_REUSED', async () => {
      const user = await enrollUser(svc.client, svc.clock);
      const code = codeAt(user.secret, svc.clock);
      await mfa.verifyTotp({ userId: user.userId, code: spaced(code) });
      const error = await mfa.verifyTotp({ userId: user.userId, code }).catch((caught: unknown) => caught);
      expect((error as MfaClientError).reason).to.equal('CODE_REUSED');
    });

    it('turns MFA off (DisableMfa takes a TOTP code or a recovery code)', async () => {
      const user = await enrollUser(svc.client, svc.clock);
      await mfa.disableMfa({ userId: user.userId, code: spaced(codeAt(user.secret, svc.clock)) });
      expect((await mfa.getMfaStatus({ userId: user.userId })).enabled).to.equal(false);
    });

    it('still refuses 5 or 7 digits, whatever the spaces', async () => {
      expect(await violations(mfa.verifyTotp({ userId: 'a', code: '12 345' }))).to.deep.equal([
        { field: 'code', description: 'must be exactly 6 digits (0-9; spaces are ignored)' },
      ]);
      expect((await violations(mfa.verifyTotp({ userId: 'a', code: '123 4567' })))[0]!.field).to.equal('code');
    });
  });

  describe('a missing code', () => {
    const required = [{ field: 'code', description: 'is required' }];
    it('says "is required" on VerifyTotp, ConfirmTotpEnrollment and RegenerateRecoveryCodes', async () => {
      expect(await violations(mfa.verifyTotp({ userId: 'a' }))).to.deep.equal(required);
      expect(await violations(mfa.confirmTotpEnrollment({ userId: 'a', enrollmentId: 'enr_x' }))).to.deep.equal(required);
      expect(await violations(mfa.regenerateRecoveryCodes({ userId: 'a' }))).to.deep.equal(required);
    });

    it('says "is required" for a code of spaces only, not "must be exactly 6 digits"', async () => {
      expect(await violations(mfa.verifyTotp({ userId: 'a', code: '   ' }))).to.deep.equal(required);
      expect(await violations(mfa.disableMfa({ userId: 'a', code: ' ' }))).to.deep.equal(required);
    });

    it('says "is required" on DisableMfa and RemoveAuthenticator (a TOTP code or a recovery code)', async () => {
      expect(await violations(mfa.disableMfa({ userId: 'a' }))).to.deep.equal(required);
      expect(await violations(mfa.removeAuthenticator({ userId: 'a', authenticatorId: 'aut_aaaaaaaaaaaaaaaa' }))).to.deep.equal(required);
    });
  });
});
