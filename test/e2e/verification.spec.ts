import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { codeAt, enrollUser, newUserId, useMemoryService } from '../support/e2e-fixture.js';
import { expectFailure } from '../support/grpc-client.js';

const wrongCode = (right: string) => (right === '000000' ? '111111' : '000000');

// On the embedded stores: nothing here looks at a store, and lockouts pass by the test's clock.
describe('Verification (gRPC, in-memory stores)', () => {
  const svc = useMemoryService({ MFA_MAX_FAILED_ATTEMPTS: '5', MFA_LOCKOUT_SECONDS: '900' });

  describe('VerifyTotp', () => {
    it('accepts a current code once; the same or an older code fails PERMISSION_DENIED with reason CODE_REUSED', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const code = codeAt(user.secret, clock);
      const verified = await client.verifyTotp({ userId: user.userId, code });
      expect(verified.verifiedAt).to.be.instanceOf(Date);
      expect(verified.deviceToken).to.equal('');
      expect(verified.deviceExpiresAt).to.equal(undefined);
      await expectFailure(client.verifyTotp({ userId: user.userId, code }), status.PERMISSION_DENIED, 'CODE_REUSED');
      await expectFailure(
        client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock, -1) }),
        status.PERMISSION_DENIED,
        'CODE_REUSED',
      );
      clock.advance(30_000);
      await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock) });
    });

    it('fails FAILED_PRECONDITION with reason MFA_NOT_ENABLED for a user without MFA', async () => {
      await expectFailure(
        svc.current.client.verifyTotp({ userId: newUserId(), code: '123456' }),
        status.FAILED_PRECONDITION,
        'MFA_NOT_ENABLED',
      );
    });

    it('fails PERMISSION_DENIED with reason INVALID_CODE for a wrong code', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      await expectFailure(
        client.verifyTotp({ userId: user.userId, code: wrongCode(codeAt(user.secret, clock)) }),
        status.PERMISSION_DENIED,
        'INVALID_CODE',
      );
    });
  });

  describe('lockout', () => {
    it('locks a user after 5 consecutive failures across all code-checking RPCs, refusing even a right code', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const other = await enrollUser(client, clock);
      const wrong = wrongCode(codeAt(user.secret, clock));
      const { userId } = user;
      await expectFailure(client.verifyTotp({ userId, code: wrong }), status.PERMISSION_DENIED, 'INVALID_CODE');
      await expectFailure(client.verifyRecoveryCode({ userId, recoveryCode: 'AAAAA-AAAAA' }), status.PERMISSION_DENIED, 'INVALID_CODE');
      await expectFailure(client.disableMfa({ userId, code: wrong }), status.PERMISSION_DENIED, 'INVALID_CODE');
      await expectFailure(client.regenerateRecoveryCodes({ userId, code: wrong }), status.PERMISSION_DENIED, 'INVALID_CODE');
      const fifth = await expectFailure(client.verifyTotp({ userId, code: wrong }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
      expect(fifth.retryDelayMs).to.be.within(899_000, 900_000);

      const right = codeAt(user.secret, clock);
      const locked = await expectFailure(client.verifyTotp({ userId, code: right }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
      expect(locked.retryDelayMs).to.be.greaterThan(0).and.at.most(900_000);
      await expectFailure(client.verifyRecoveryCode({ userId, recoveryCode: user.recoveryCodes[0] }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
      await expectFailure(client.disableMfa({ userId, code: right }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
      await expectFailure(client.regenerateRecoveryCodes({ userId, code: right }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');

      const found = await client.getMfaStatus({ userId });
      expect(found.lockedUntil!.getTime() - clock.now().getTime()).to.be.within(890_000, 900_000);
      expect(found.recoveryCodesRemaining).to.equal(10);

      // Other users are unaffected.
      await client.verifyTotp({ userId: other.userId, code: codeAt(other.secret, clock) });
      expect((await client.getMfaStatus({ userId: other.userId })).lockedUntil).to.equal(undefined);
    });

    it('counts only consecutive failures: a success resets the count', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const { userId } = user;
      for (let i = 0; i < 4; i += 1) {
        await expectFailure(client.verifyTotp({ userId, code: wrongCode(codeAt(user.secret, clock)) }), status.PERMISSION_DENIED, 'INVALID_CODE');
      }
      await client.verifyTotp({ userId, code: codeAt(user.secret, clock) });
      for (let i = 0; i < 4; i += 1) {
        await expectFailure(client.verifyTotp({ userId, code: wrongCode(codeAt(user.secret, clock)) }), status.PERMISSION_DENIED, 'INVALID_CODE');
      }
      clock.advance(30_000);
      await client.verifyTotp({ userId, code: codeAt(user.secret, clock) });
    });

    describe('with MFA_MAX_FAILED_ATTEMPTS=2 and MFA_LOCKOUT_SECONDS=1', () => {
      const strict = useMemoryService({ MFA_MAX_FAILED_ATTEMPTS: '2', MFA_LOCKOUT_SECONDS: '1' });

      it('locks after 2 failures and lets the user in again once the lockout has passed', async () => {
        const { client, clock } = strict.current;
        const user = await enrollUser(client, clock);
        const { userId } = user;
        await expectFailure(client.verifyTotp({ userId, code: wrongCode(codeAt(user.secret, clock)) }), status.PERMISSION_DENIED, 'INVALID_CODE');
        await expectFailure(client.verifyTotp({ userId, code: wrongCode(codeAt(user.secret, clock)) }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');
        clock.advance(1100);
        await client.verifyTotp({ userId, code: codeAt(user.secret, clock) });
      });
    });
  });

  describe('VerifyRecoveryCode', () => {
    it('accepts each code once, ignoring case, spaces and hyphens, and counts what is left', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const typed = ` ${user.recoveryCodes[2]!.toLowerCase().replace('-', ' ')} `;
      const verified = await client.verifyRecoveryCode({ userId: user.userId, recoveryCode: typed });
      expect(verified.recoveryCodesRemaining).to.equal(9);
      await expectFailure(
        client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[2] }),
        status.PERMISSION_DENIED,
        'INVALID_CODE',
      );
      expect((await client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(9);
    });

    it("does not accept another user's recovery code", async () => {
      const { client, clock } = svc.current;
      const alice = await enrollUser(client, clock);
      const bob = await enrollUser(client, clock);
      await expectFailure(
        client.verifyRecoveryCode({ userId: bob.userId, recoveryCode: alice.recoveryCodes[0] }),
        status.PERMISSION_DENIED,
        'INVALID_CODE',
      );
    });
  });

  describe('RegenerateRecoveryCodes', () => {
    it('issues 10 new codes and retires every old one', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const { recoveryCodes } = await client.regenerateRecoveryCodes({ userId: user.userId, code: codeAt(user.secret, clock) });
      expect(recoveryCodes).to.have.length(10);
      expect(recoveryCodes).to.not.include.members([user.recoveryCodes[0]]);
      await expectFailure(
        client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] }),
        status.PERMISSION_DENIED,
        'INVALID_CODE',
      );
      const verified = await client.verifyRecoveryCode({ userId: user.userId, recoveryCode: recoveryCodes[9] });
      expect(verified.recoveryCodesRemaining).to.equal(9);
    });
  });

  describe('DisableMfa', () => {
    it('turns MFA off with a TOTP code, revokes sessions and forgets devices', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      const { userId } = user;
      const remembered = await client.verifyTotp({ userId, code: codeAt(user.secret, clock), rememberDevice: true, deviceLabel: 'laptop' });
      clock.advance(30_000);
      const sessionIssuedAt = clock.now();
      clock.advance(5);
      const disabled = await client.disableMfa({ userId, code: codeAt(user.secret, clock) });
      expect(disabled.sessionsRevokedAt!.getTime()).to.equal(disabled.disabledAt!.getTime());
      expect((await client.checkSession({ userId, sessionIssuedAt })).revoked).to.equal(true);
      expect((await client.checkRememberedDevice({ userId, deviceToken: remembered.deviceToken })).remembered).to.equal(false);
      const found = await client.getMfaStatus({ userId });
      expect(found).to.deep.include({ enabled: false, recoveryCodesRemaining: 0, rememberedDevices: 0 });
      expect(found.enabledAt).to.equal(undefined);
      await expectFailure(client.verifyTotp({ userId, code: codeAt(user.secret, clock, 1) }), status.FAILED_PRECONDITION, 'MFA_NOT_ENABLED');
      await expectFailure(client.disableMfa({ userId, code: '123456' }), status.FAILED_PRECONDITION, 'MFA_NOT_ENABLED');
      // Enrolling again works, with a new secret.
      await enrollUser(client, clock, userId);
    });

    it('turns MFA off with a recovery code', async () => {
      const { client, clock } = svc.current;
      const user = await enrollUser(client, clock);
      await client.disableMfa({ userId: user.userId, code: user.recoveryCodes[4] });
      expect((await client.getMfaStatus({ userId: user.userId })).enabled).to.equal(false);
    });
  });
});
