import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaClientError } from '../../src/client/index.js';
import { codeAt, enrollUser, newUserId, useMemoryService, usePublicClient } from '../support/e2e-fixture.js';

/** "123456" as authenticator apps show it. */
const spaced = (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`;

describe('Codes as people type them (embedded stores)', () => {
  const service = useMemoryService();
  const client = usePublicClient(service);

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
      const begun = await service.current.client.beginTotpEnrollment({ userId });
      await client.current.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: spaced(codeAt(begun.secret, service.current.clock)) });
      service.current.clock.advance(30_000);
      const verified = await client.current.verifyTotp({ userId, code: ` ${spaced(codeAt(begun.secret, service.current.clock))} ` });
      expect(verified.verifiedAt).to.be.instanceOf(Date);
      service.current.clock.advance(30_000);
      const { recoveryCodes } = await client.current.regenerateRecoveryCodes({ userId, code: spaced(codeAt(begun.secret, service.current.clock)) });
      expect(recoveryCodes).to.have.length(10);
    });

    it('is checked as its digits: the same code again, spaced differently, is CODE_REUSED', async () => {
      const user = await enrollUser(service.current.client, service.current.clock);
      const code = codeAt(user.secret, service.current.clock);
      await client.current.verifyTotp({ userId: user.userId, code: spaced(code) });
      const error = await client.current.verifyTotp({ userId: user.userId, code }).catch((caught: unknown) => caught);
      expect((error as MfaClientError).reason).to.equal('CODE_REUSED');
    });

    it('turns MFA off (DisableMfa takes a TOTP code or a recovery code)', async () => {
      const user = await enrollUser(service.current.client, service.current.clock);
      await client.current.disableMfa({ userId: user.userId, code: spaced(codeAt(user.secret, service.current.clock)) });
      expect((await client.current.getMfaStatus({ userId: user.userId })).enabled).to.equal(false);
    });

    it('still refuses 5 or 7 digits, whatever the spaces', async () => {
      expect(await violations(client.current.verifyTotp({ userId: 'a', code: '12 345' }))).to.deep.equal([
        { field: 'code', description: 'must be exactly 6 digits (0-9; spaces are ignored)' },
      ]);
      expect((await violations(client.current.verifyTotp({ userId: 'a', code: '123 4567' })))[0]!.field).to.equal('code');
    });
  });

  describe('a missing code', () => {
    const required = [{ field: 'code', description: 'is required' }];
    // Where a security key's assertion may stand in for the code (issue 23), both fields are named.
    const requiredOrAssertion = [...required, { field: 'webauthn_assertion', description: 'is required when code is empty' }];
    it('says "is required" on VerifyTotp, ConfirmTotpEnrollment and RegenerateRecoveryCodes', async () => {
      expect(await violations(client.current.verifyTotp({ userId: 'a' }))).to.deep.equal(required);
      expect(await violations(client.current.confirmTotpEnrollment({ userId: 'a', enrollmentId: 'enr_x' }))).to.deep.equal(required);
      expect(await violations(client.current.regenerateRecoveryCodes({ userId: 'a' }))).to.deep.equal(requiredOrAssertion);
    });

    it('says "is required" for a code of spaces only, not "must be exactly 6 digits"', async () => {
      expect(await violations(client.current.verifyTotp({ userId: 'a', code: '   ' }))).to.deep.equal(required);
      expect(await violations(client.current.disableMfa({ userId: 'a', code: ' ' }))).to.deep.equal(requiredOrAssertion);
    });

    it('says "is required" on DisableMfa and RemoveAuthenticator (a TOTP code or a recovery code)', async () => {
      expect(await violations(client.current.disableMfa({ userId: 'a' }))).to.deep.equal(requiredOrAssertion);
      expect(await violations(client.current.removeAuthenticator({ userId: 'a', authenticatorId: 'aut_aaaaaaaaaaaaaaaa' }))).to.deep.equal(requiredOrAssertion);
    });
  });
});
