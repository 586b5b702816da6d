import { expect } from 'chai';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

describe('VerificationService (in-memory stores, fake clock)', () => {
  const noDevice = { rememberDevice: false, deviceLabel: '' };

  describe('a code is spent if and only if its durable write committed', () => {
    it('keeps a recovery code usable when its spend failed before the write', async () => {
      const h = serviceHarness();
      const { recoveryCodes } = await h.enroll('alice');
      h.faults.factors('spendProof', 'before');
      const use = () => h.services.verification.verifyRecoveryCode({ userId: 'alice', recoveryCode: recoveryCodes[0]!, ...noDevice });
      expect(await reasonOf(use())).to.equal('STORE_UNAVAILABLE');
      expect((await use()).recoveryCodesRemaining).to.equal(9);
    });

    it('counts a recovery code as spent when the write committed though the call failed', async () => {
      const h = serviceHarness();
      const { recoveryCodes } = await h.enroll('amos');
      h.faults.factors('spendProof', 'after');
      const use = () => h.services.verification.verifyRecoveryCode({ userId: 'amos', recoveryCode: recoveryCodes[0]!, ...noDevice });
      expect(await reasonOf(use())).to.equal('STORE_UNAVAILABLE');
      expect(await reasonOf(use())).to.equal('INVALID_CODE');
      expect((await h.services.status.get('amos')).recoveryCodesRemaining).to.equal(9);
    });

    it('keeps a TOTP code usable when its spend failed, and never turns the retry into a failure', async () => {
      const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '1' });
      const { secret } = await h.enroll('abe');
      const code = h.code(secret);
      h.faults.factors('spendProof', 'before');
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'abe', code, ...noDevice }))).to.equal('STORE_UNAVAILABLE');
      // With one failure allowed, a retry counted as a failure would lock the user.
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'abe', code, ...noDevice }))).to.equal('OK');
    });
  });

  describe('replay (RFC 6238 §5.2)', () => {
    it('accepts a step once and never an older one, counting replays towards the lockout', async () => {
      const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '3' });
      const { secret } = await h.enroll('bea');
      const verify = (code: string) => reasonOf(h.services.verification.verifyTotp({ userId: 'bea', code, ...noDevice }));
      expect(await verify(h.code(secret, 1))).to.equal('OK');
      expect(await verify(h.code(secret, 1))).to.equal('CODE_REUSED');
      expect(await verify(h.code(secret, 0))).to.equal('CODE_REUSED');
      expect(await verify(h.code(secret, 0))).to.equal('LOCKED_OUT');
    });

    it('lets exactly one of many concurrent uses of one code win', async () => {
      const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '100' });
      const { secret, recoveryCodes } = await h.enroll('ben');
      const code = h.code(secret);
      const totp = await Promise.all(Array.from({ length: 20 }, () => reasonOf(h.services.verification.verifyTotp({ userId: 'ben', code, ...noDevice }))));
      expect(totp.filter((r) => r === 'OK')).to.have.length(1);
      expect(new Set(totp.filter((r) => r !== 'OK'))).to.deep.equal(new Set(['CODE_REUSED']));
      const recovery = await Promise.all(
        Array.from({ length: 10 }, () => reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'ben', recoveryCode: recoveryCodes[1]!, ...noDevice }))),
      );
      expect(recovery.filter((r) => r === 'OK')).to.have.length(1);
    });

    it('accepts a code one period old or ahead, but not two', async () => {
      const h = serviceHarness();
      const { secret } = await h.enroll('carol');
      const verify = (steps: number) => reasonOf(h.services.verification.verifyTotp({ userId: 'carol', code: h.code(secret, steps), ...noDevice }));
      expect(await verify(2)).to.equal('INVALID_CODE');
      expect(await verify(1)).to.equal('OK');
      h.clock.advance(60_000);
      expect(await verify(-1)).to.equal('CODE_REUSED');
      expect(await verify(0)).to.equal('OK');
    });
    // RFC 6238's SHA1 seed shows 963181 at both steps 59061240 and 59061241.
    const COLLISION_STEP = 59_061_240;
    const rfcSecret = Buffer.from('12345678901234567890', 'ascii');
    const atStep = (step: number) => new Date(step * 30_000);

    it('accepts the digits two steps share once while both are in the window', async () => {
      // enroll() confirms and moves on one period: the login runs at COLLISION_STEP, whose window holds both.
      const h = serviceHarness({}, { start: atStep(COLLISION_STEP - 1), totpSecret: rfcSecret });
      const { secret } = await h.enroll('cass');
      const verify = (code: string) => reasonOf(h.services.verification.verifyTotp({ userId: 'cass', code, ...noDevice }));
      expect(h.code(secret)).to.equal('963181');
      expect(await verify('963181')).to.equal('OK');
      expect(await verify('963181')).to.equal('CODE_REUSED');
      h.clock.advance(30_000);
      expect(h.code(secret), 'the app shows the same digits in the next period').to.equal('963181');
      expect(await verify('963181')).to.equal('CODE_REUSED');
      expect(await verify(h.code(secret, 1))).to.equal('OK');
    });

    it('accepts a fresh step showing the digits of a spent one that was accepted before the fresh step was in the window', async () => {
      // The login one period ahead spends COLLISION_STEP at COLLISION_STEP - 1, whose window ends there.
      const h = serviceHarness({}, { start: atStep(COLLISION_STEP - 2), totpSecret: rfcSecret });
      const { secret } = await h.enroll('cato');
      const verify = (code: string) => reasonOf(h.services.verification.verifyTotp({ userId: 'cato', code, ...noDevice }));
      expect(h.code(secret, 1)).to.equal('963181');
      expect(await verify('963181')).to.equal('OK');
      h.clock.advance(60_000);
      expect(h.code(secret), 'the app shows the same digits at the next step').to.equal('963181');
      expect(await verify('963181')).to.equal('OK');
      expect(await verify('963181')).to.equal('CODE_REUSED');
    });
  });

  describe('lockout', () => {
    it('is per user over every kind of code, and ends after MFA_LOCKOUT_SECONDS', async () => {
      const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '3', MFA_LOCKOUT_SECONDS: '60' });
      const { secret, recoveryCodes } = await h.enroll('cy');
      await h.enroll('other');
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'cy', code: '000000' === h.code(secret) ? '111111' : '000000', ...noDevice }))).to.equal('INVALID_CODE');
      expect(await reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'cy', recoveryCode: 'AAAAA-AAAAA', ...noDevice }))).to.equal('INVALID_CODE');
      expect(await reasonOf(h.services.verification.disable({ userId: 'cy', code: 'BBBBB-BBBBB' }))).to.equal('LOCKED_OUT');
      expect(await reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'cy', recoveryCode: recoveryCodes[0]!, ...noDevice }))).to.equal('LOCKED_OUT');
      expect((await h.services.status.get('other')).lockedUntil).to.equal(null);
      h.clock.advance(61_000);
      expect(await reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'cy', recoveryCode: recoveryCodes[0]!, ...noDevice }))).to.equal('OK');
    });
  });

  describe('when the key that sealed the user\'s secrets is gone from MFA_ENCRYPTION_KEYS', () => {
    it('fails every kind of code check with an error naming the key, and counts none towards the lockout', async () => {
      const h = serviceHarness({ MFA_MAX_FAILED_ATTEMPTS: '2' });
      const { secret, recoveryCodes } = await h.enroll('dora');
      const broken = h.withoutKey();
      for (let i = 0; i < 3; i += 1) {
        expect(await reasonOf(broken.verification.verifyRecoveryCode({ userId: 'dora', recoveryCode: recoveryCodes[0]!, ...noDevice }))).to.match(/thrown: .*key "k"/);
        expect(await reasonOf(broken.verification.verifyTotp({ userId: 'dora', code: h.code(secret), ...noDevice }))).to.match(/thrown: .*key "k"/);
        expect(await reasonOf(broken.verification.disable({ userId: 'dora', code: recoveryCodes[1]! }))).to.match(/thrown: .*key "k"/);
      }
      expect((await h.services.status.get('dora')).lockedUntil).to.equal(null);
      expect((await h.services.verification.verifyRecoveryCode({ userId: 'dora', recoveryCode: recoveryCodes[0]!, ...noDevice })).recoveryCodesRemaining).to.equal(9);
    });
  });

  describe('remember this device', () => {
    it('keeps at most MFA_MAX_REMEMBERED_DEVICES devices, forgetting the oldest', async () => {
      const h = serviceHarness({ MFA_MAX_REMEMBERED_DEVICES: '2' });
      const { secret } = await h.enroll('bob');
      const tokens: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const verified = await h.services.verification.verifyTotp({ userId: 'bob', code: h.code(secret), rememberDevice: true, deviceLabel: `d${i}` });
        tokens.push(verified.device!.token);
        h.clock.advance(30_000);
      }
      expect((await h.services.devices.list('bob')).map((d) => d.label)).to.deep.equal(['d2', 'd1']);
      expect((await h.services.devices.check('bob', tokens[0]!)).remembered).to.equal(false);
      expect((await h.services.devices.check('bob', tokens[2]!)).remembered).to.equal(true);
    });

    it('keeps the cap when many calls remember devices at once', async () => {
      const h = serviceHarness({ MFA_MAX_REMEMBERED_DEVICES: '3' });
      const { recoveryCodes } = await h.enroll('eve');
      const results = await Promise.all(
        recoveryCodes.map((recoveryCode, i) =>
          reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'eve', recoveryCode, rememberDevice: true, deviceLabel: `d${i}` })),
        ),
      );
      expect(results).to.deep.equal(Array(10).fill('OK'));
      expect(h.stores.factors && (await h.stores.factors.get('eve'))!.devices).to.have.length(3);
    });
  });

  describe('DisableMfa', () => {
    it('turns MFA off, revokes sessions, forgets devices, and clears the confirmed enrollment', async () => {
      // A long TTL: the confirmed enrollment must go because of DisableMfa, not because it expired.
      const h = serviceHarness({ MFA_ENROLLMENT_TTL_SECONDS: '600' });
      const { secret } = await h.enroll('fay');
      await h.services.verification.verifyTotp({ userId: 'fay', code: h.code(secret), rememberDevice: true, deviceLabel: 'laptop' });
      h.clock.advance(30_000);
      const issuedBefore = new Date(h.clock.now().getTime() - 1);
      const { disabledAt } = await h.services.verification.disable({ userId: 'fay', code: h.code(secret) });
      const status = await h.services.status.get('fay');
      expect(status).to.deep.include({ enabled: false, rememberedDevices: 0 });
      expect(status.sessionsRevokedAt!.getTime()).to.equal(disabledAt.getTime());
      expect((await h.services.sessions.check('fay', issuedBefore)).revoked).to.equal(true);
      expect(await h.stores.pending.get('fay')).to.equal(null);
    });
  });
});
