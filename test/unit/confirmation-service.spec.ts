import { expect } from 'chai';
import { MfaError } from '../../src/domain/errors.js';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

describe('ConfirmationService: confirming an enrollment (in-memory stores, fake clock)', () => {
  const begin = (h: ReturnType<typeof serviceHarness>, userId: string) => h.services.enrollment.begin({ userId, accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: false });

  describe('lockout', () => {
    it('counts wrong confirming codes, refuses even the right one while locked, and lets it through once the lockout ends', async () => {
      const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '2', MFA_LOCKOUT_SECONDS: '60', MFA_ENROLLMENT_TTL_SECONDS: '3600' });
      const begun = await begin(h, 'dave');
      const right = h.code(begun.secret);
      const wrong = right === '000000' ? '111111' : '000000';
      const confirm = (code: string) => h.services.confirmation.confirm({ userId: 'dave', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      expect(await reasonOf(confirm(wrong))).to.equal('INVALID_CODE');
      expect(await reasonOf(confirm(wrong))).to.equal('LOCKED_OUT');
      expect(await reasonOf(confirm(right))).to.equal('LOCKED_OUT');
      h.clock.advance(61_000);
      // The enrollment is still pending (TTL 1 h): only the end of the lockout lets this through.
      expect(await reasonOf(confirm(h.code(begun.secret)))).to.equal('OK');
    });
  });

  describe('Confirm is idempotent', () => {
    it('answers a retry with the same code with the same recovery codes and enabled_at, and any other code with MFA_ALREADY_ENABLED', async () => {
      const h = serviceHarness();
      const begun = await begin(h, 'erin');
      const code = h.code(begun.secret);
      const first = await h.services.confirmation.confirm({ userId: 'erin', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      h.clock.advance(20_000);
      const retry = await h.services.confirmation.confirm({ userId: 'erin', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      expect(retry.recoveryCodes).to.deep.equal(first.recoveryCodes);
      expect(retry.enabledAt.getTime()).to.equal(first.enabledAt.getTime());
      h.clock.advance(30_000);
      expect(await reasonOf(h.services.confirmation.confirm({ userId: 'erin', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' }))).to.equal(
        'MFA_ALREADY_ENABLED',
      );
    });

    it('finishes on retry when MFA could not be turned on, with codes that work', async () => {
      const h = serviceHarness();
      const begun = await begin(h, 'finn');
      const code = h.code(begun.secret);
      h.faults.factors('enable', 'before');
      expect(await reasonOf(h.services.confirmation.confirm({ userId: 'finn', enrollmentId: begun.enrollmentId, code, existingCode: '' }))).to.equal('STORE_UNAVAILABLE');
      expect((await h.services.status.get('finn')).enabled).to.equal(false);
      const retried = await h.services.confirmation.confirm({ userId: 'finn', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      expect((await h.services.status.get('finn')).enabled).to.equal(true);
      const used = await h.services.verification.verifyRecoveryCode({ userId: 'finn', recoveryCode: retried.recoveryCodes[0]!, rememberDevice: false, deviceLabel: '' });
      expect(used.recoveryCodesRemaining).to.equal(9);
    });

    it('answers a retry after a success the caller did not see with that success', async () => {
      const h = serviceHarness();
      const begun = await begin(h, 'gina');
      const code = h.code(begun.secret);
      h.faults.factors('enable', 'after');
      expect(await reasonOf(h.services.confirmation.confirm({ userId: 'gina', enrollmentId: begun.enrollmentId, code, existingCode: '' }))).to.equal('STORE_UNAVAILABLE');
      expect((await h.services.status.get('gina')).enabled).to.equal(true);
      const retried = await h.services.confirmation.confirm({ userId: 'gina', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      // The codes the retry shows are the ones stored: one of them is accepted.
      await h.services.verification.verifyRecoveryCode({ userId: 'gina', recoveryCode: retried.recoveryCodes[3]!, rememberDevice: false, deviceLabel: '' });
    });

    it('loses nothing when recording the confirmation fails: the enrollment stays pending', async () => {
      const h = serviceHarness();
      const begun = await begin(h, 'hal');
      h.faults.pending('confirm', 'before');
      expect(await reasonOf(h.services.confirmation.confirm({ userId: 'hal', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' }))).to.equal(
        'STORE_UNAVAILABLE',
      );
      expect((await h.services.status.get('hal')).pendingEnrollmentExpiresAt).to.not.equal(null);
      await h.services.confirmation.confirm({ userId: 'hal', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' });
      expect((await h.services.status.get('hal')).enabled).to.equal(true);
    });

    it('gives concurrent confirms of one enrollment one answer', async () => {
      const h = serviceHarness();
      const begun = await begin(h, 'ivy');
      const code = h.code(begun.secret);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => h.services.confirmation.confirm({ userId: 'ivy', enrollmentId: begun.enrollmentId, code, existingCode: '' })),
      );
      expect(new Set(results.map((r) => r.recoveryCodes.join()))).to.have.property('size', 1);
    });
  });

  describe('a confirmed enrollment', () => {
    it('is no longer pending: not in GetMfaStatus, not cancellable, not replaced by Begin until MFA is turned off', async () => {
      const h = serviceHarness();
      const { secret } = await h.enroll('jo');
      const status = await h.services.status.get('jo');
      expect(status.pendingEnrollmentExpiresAt).to.equal(null);
      expect(await reasonOf(begin(h, 'jo'))).to.equal('MFA_ALREADY_ENABLED');
      await h.services.verification.disable({ userId: 'jo', code: h.code(secret) });
      const again = await begin(h, 'jo');
      expect(again.enrollmentId).to.be.a('string');
    });

    it('blocks Begin while its confirmation is being turned on (Begin racing Confirm never answers OK after MFA went on)', async () => {
      const h = serviceHarness();
      const begun = await begin(h, 'kim');
      h.faults.factors('enable', 'before');
      await reasonOf(h.services.confirmation.confirm({ userId: 'kim', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' }));
      // Confirmed in the enrollment, not yet on durably: a Confirm retry (or its crashed twin) may turn MFA on at any
      // moment, so it cannot be cancelled; Begin finishes it rather than answer OK.
      expect(await reasonOf(h.services.enrollment.cancel({ userId: 'kim', enrollmentId: begun.enrollmentId }))).to.equal('ENROLLMENT_NOT_FOUND');
      expect(await reasonOf(begin(h, 'kim'))).to.equal('MFA_ALREADY_ENABLED');
      expect((await h.services.status.get('kim')).enabled).to.equal(true);
    });
  });

  describe('a confirmation can never undo a later change', () => {
    const long = { MFA_ENROLLMENT_TTL_SECONDS: '600' };

    it('is gone once MFA is turned off: a retried Confirm cannot turn it back on with the old secret and codes', async () => {
      const h = serviceHarness(long);
      const begun = await begin(h, 'lee');
      const code = h.code(begun.secret);
      const confirmed = await h.services.confirmation.confirm({ userId: 'lee', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      await h.services.verification.disable({ userId: 'lee', code: confirmed.recoveryCodes[0]! });
      expect(await reasonOf(h.services.confirmation.confirm({ userId: 'lee', enrollmentId: begun.enrollmentId, code, existingCode: '' }))).to.equal(
        'ENROLLMENT_NOT_FOUND',
      );
      expect((await h.services.status.get('lee')).enabled).to.equal(false);
    });

    it('is superseded by any write of the user\'s record after it was fixed (a retry racing DisableMfa or ResetMfa)', async () => {
      const h = serviceHarness(long);
      const begun = await begin(h, 'max');
      const code = h.code(begun.secret);
      await h.services.confirmation.confirm({ userId: 'max', enrollmentId: begun.enrollmentId, code, existingCode: '' });
      // What a retry read before the reset cleared the enrollment.
      const readByRetry = (await h.stores.pending.get('max'))!;
      await h.services.admin.resetMfa('max', 'lost phone');
      expect(await h.services.confirmation.finish(readByRetry)).to.equal(false);
      expect((await h.services.status.get('max')).enabled).to.equal(false);
    });

    it('is gone once the authenticator it added is removed: a retried add cannot bring it back', async () => {
      const h = serviceHarness(long);
      const first = await h.enroll('ned');
      const begun = await h.services.enrollment.begin({ userId: 'ned', accountName: '', issuer: '', authenticatorLabel: 'spare', addAuthenticator: true });
      const request = { userId: 'ned', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: first.recoveryCodes[0]! };
      const added = await h.services.confirmation.confirm(request);
      await h.services.authenticators.remove({ userId: 'ned', authenticatorId: added.authenticatorId, code: first.recoveryCodes[1]! });
      expect(await reasonOf(h.services.confirmation.confirm({ ...request, existingCode: first.recoveryCodes[2]! }))).to.equal('ENROLLMENT_NOT_FOUND');
      expect((await h.services.authenticators.list('ned')).map((a) => a.authenticatorId)).to.not.include(added.authenticatorId);
    });

    it('answers a retry again without clearing the lockout count (a retry is not a check)', async () => {
      const h = serviceHarness({ ...long, MFA_MAX_FAILED_ATTEMPTS: '3' });
      const begun = await begin(h, 'ola');
      const code = h.code(begun.secret);
      const request = { userId: 'ola', enrollmentId: begun.enrollmentId, code, existingCode: '' };
      await h.services.confirmation.confirm(request);
      h.clock.advance(30_000);
      const verify = (c: string) => reasonOf(h.services.verification.verifyTotp({ userId: 'ola', code: c, rememberDevice: false, deviceLabel: '' }));
      const wrong = h.code(begun.secret) === '000000' ? '111111' : '000000';
      expect(await verify(wrong)).to.equal('INVALID_CODE');
      expect(await verify(wrong)).to.equal('INVALID_CODE');
      expect(await reasonOf(h.services.confirmation.confirm(request))).to.equal('OK');
      expect(await verify(wrong)).to.equal('LOCKED_OUT');
      expect(await reasonOf(h.services.confirmation.confirm(request))).to.equal('LOCKED_OUT');
    });

    it('does not give the codes again once RegenerateRecoveryCodes replaced them', async () => {
      const h = serviceHarness(long);
      const begun = await begin(h, 'pia');
      const request = { userId: 'pia', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' };
      await h.services.confirmation.confirm(request);
      h.clock.advance(30_000);
      await h.services.verification.regenerateRecoveryCodes({ userId: 'pia', code: h.code(begun.secret) });
      expect(await reasonOf(h.services.confirmation.confirm(request))).to.equal('MFA_ALREADY_ENABLED');
    });
  });

  describe('BeginTotpEnrollment after a Confirm cut off once its outcome was recorded', () => {
    it('finishes that Confirm (MFA_ALREADY_ENABLED, truthfully), and the Confirm retry still answers its codes', async () => {
      const h = serviceHarness({ MFA_ENROLLMENT_TTL_SECONDS: '600' });
      const begun = await begin(h, 'quin');
      const request = { userId: 'quin', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' };
      h.faults.factors('enable', 'before');
      expect(await reasonOf(h.services.confirmation.confirm(request))).to.equal('STORE_UNAVAILABLE');
      expect(await reasonOf(begin(h, 'quin'))).to.equal('MFA_ALREADY_ENABLED');
      expect((await h.services.status.get('quin')).enabled).to.equal(true);
      const retried = await h.services.confirmation.confirm(request);
      await h.services.verification.verifyRecoveryCode({ userId: 'quin', recoveryCode: retried.recoveryCodes[0]!, rememberDevice: false, deviceLabel: '' });
    });

    it('discards it when the user\'s record changed since, and begins afresh', async () => {
      const h = serviceHarness({ MFA_ENROLLMENT_TTL_SECONDS: '600' });
      const begun = await begin(h, 'rae');
      h.faults.factors('enable', 'before');
      await reasonOf(h.services.confirmation.confirm({ userId: 'rae', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' }));
      await h.services.sessions.revoke('rae');
      const again = await begin(h, 'rae');
      expect(again.enrollmentId).to.not.equal(begun.enrollmentId);
      expect((await h.services.status.get('rae')).enabled).to.equal(false);
    });
  });

  it('refuses existing_code on a first enrollment, naming the field', async () => {
    const h = serviceHarness();
    const begun = await begin(h, 'sam');
    const failure = await h.services.confirmation.confirm({ userId: 'sam', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '123456' }).catch((e: MfaError) => e);
    expect((failure as MfaError).fieldViolations.map((v) => v.field)).to.deep.equal(['existing_code']);
  });

  it('refuses an account name that would not fit a QR code once URL-encoded', async () => {
    const h = serviceHarness();
    const failure = await h.services.enrollment.begin({ userId: 'erin', accountName: '😀'.repeat(200), issuer: '', authenticatorLabel: '', addAuthenticator: false }).catch((e: MfaError) => e);
    expect(failure).to.be.instanceOf(MfaError);
    expect((failure as MfaError).reason).to.equal('INVALID_REQUEST');
    expect((failure as MfaError).fieldViolations.map((v) => v.field)).to.include('account_name');
  });
});
