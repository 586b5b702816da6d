import { expect } from 'chai';
import { loadConfig, ConfigError } from '../../src/config.js';
import { reasonOf, serviceHarness } from '../support/service-harness.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

describe('TOTP suspension after MFA_MAX_CONSECUTIVE_FAILURES (issue 22; in-memory stores, fake clock)', () => {
  const noDevice = { rememberDevice: false, deviceLabel: '' };
  // A lockout every 2 failures (60 s, then 120 s, ...); the 5th failure in a row suspends TOTP.
  const settings = { MFA_MAX_FAILED_ATTEMPTS: '2', MFA_LOCKOUT_SECONDS: '60', MFA_LOCKOUT_MAX_SECONDS: '240', MFA_MAX_CONSECUTIVE_FAILURES: '5' };

  async function setUp(userId: string, env: Record<string, string> = settings) {
    const h = serviceHarness(env);
    const enrolled = await h.enroll(userId);
    const wrong = () => (h.code(enrolled.secret) === '000000' ? '111111' : '000000');
    const verify = (code: string) => reasonOf(h.services.verification.verifyTotp({ userId, code, ...noDevice }));
    const recover = (recoveryCode: string) => reasonOf(h.services.verification.verifyRecoveryCode({ userId, recoveryCode, ...noDevice }));
    /** `count` wrong codes, each lockout waited out (as a patient attacker does), so each one counts; the reasons. */
    const guess = async (count: number) => {
      const reasons: string[] = [];
      while (reasons.length < count) {
        const reason = await verify(wrong());
        reasons.push(reason);
        const { lockedUntil } = await h.services.status.get(userId);
        if (lockedUntil !== null) h.clock.advance(lockedUntil.getTime() - h.clock.now().getTime());
      }
      return reasons;
    };
    const outboxTypes = async () => (await h.stores.factors.outbox(userId)).map((e) => e.type);
    return { h, ...enrolled, wrong, verify, recover, guess, outboxTypes };
  }

  it('judges exactly the limit of failures, then answers TOTP_SUSPENDED to every TOTP code, the right one included, counting nothing', async () => {
    const { h, secret, verify, guess, outboxTypes } = await setUp('sue');
    expect(await guess(5)).to.deep.equal(['INVALID_CODE', 'LOCKED_OUT', 'INVALID_CODE', 'LOCKED_OUT', 'TOTP_SUSPENDED']);
    const status = await h.services.status.get('sue');
    expect(status.totpSuspendedAt?.getTime()).to.equal(h.clock.now().getTime());
    expect(status.lockedUntil, 'the suspending failure starts no lockout').to.equal(null);
    expect(await verify(h.code(secret))).to.equal('TOTP_SUSPENDED');
    expect(await verify('000000')).to.equal('TOTP_SUSPENDED');
    expect(await h.stores.attempts.standing('sue')).to.deep.equal({ lockedMs: 0, failures: 0 });
    const events = await h.stores.factors.outbox('sue');
    expect(events.filter((e) => e.type === 'TOTP_SUSPENDED').map((e) => e.failedAttempts)).to.deep.equal([5]);
    expect(await outboxTypes()).to.deep.equal(['MFA_ENABLED', 'LOCKED_OUT', 'LOCKED_OUT', 'TOTP_SUSPENDED']);
  });

  it('judges no check in flight past the limit: a burst of wrong codes, with the stores slow at random, gets exactly the limit less one judged', async () => {
    const { h, secret } = await setUp('burst', { ...settings, MFA_MAX_FAILED_ATTEMPTS: '10', MFA_MAX_CONSECUTIVE_FAILURES: '10' });
    const slow = (store: object, method: string) => {
      const target = store as Record<string, (...args: unknown[]) => Promise<unknown>>;
      const original = target[method]!.bind(store);
      target[method] = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
        return original(...args);
      };
    };
    for (const method of ['settle', 'suspended', 'standing']) slow(h.stores.attempts, method);
    for (const method of ['get', 'suspendTotp', 'spendProof']) slow(h.stores.factors, method);
    // No right code among them (one of the window's could be spent before the suspension).
    const right = [-1, 0, 1].map((steps) => h.code(secret, steps));
    const codes = Array.from({ length: 120 }, (_, i) => String(100_000 + i)).filter((code) => !right.includes(code));
    const reasons = await Promise.all(codes.map((code) => reasonOf(h.services.verification.verifyTotp({ userId: 'burst', code, ...noDevice }))));
    expect(reasons.filter((r) => r === 'INVALID_CODE')).to.have.length(9);
    expect(reasons.filter((r) => r !== 'INVALID_CODE' && r !== 'TOTP_SUSPENDED')).to.deep.equal([]);
    expect((await h.services.status.get('burst')).totpSuspendedAt).to.not.equal(null);
  });

  it('refuses nothing of a record a recovery code restored, when the suspension\'s mark lands only after the restore', async () => {
    const { h, secret, recoveryCodes, verify, guess, wrong } = await setUp('late');
    await guess(4);
    const attempts = h.stores.attempts as unknown as { suspended: (...args: unknown[]) => Promise<void> };
    const mark = attempts.suspended.bind(attempts);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    attempts.suspended = async (...args) => {
      await held;
      return mark(...args);
    };
    const suspending = verify(wrong());
    while ((await h.services.status.get('late')).totpSuspendedAt === null) await new Promise((resolve) => setImmediate(resolve));
    expect(await reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'late', recoveryCode: recoveryCodes[0]!, ...noDevice }))).to.equal('OK');
    release();
    expect(await suspending).to.equal('TOTP_SUSPENDED');
    h.clock.advance(30_000);
    expect(await verify(h.code(secret)), 'the restored user\'s right code').to.equal('OK');
    expect(await verify(wrong())).to.equal('INVALID_CODE');
  });

  it('suspends instead of locking when the limit falls on a lockout', async () => {
    const { guess } = await setUp('even', { ...settings, MFA_MAX_CONSECUTIVE_FAILURES: '4' });
    expect(await guess(4)).to.deep.equal(['INVALID_CODE', 'LOCKED_OUT', 'INVALID_CODE', 'TOTP_SUSPENDED']);
  });

  it('moves the version with the suspending write, so a login on an older copy misses and is refused', async () => {
    const { h, secret, verify, guess } = await setUp('copy');
    expect(await verify(h.code(secret))).to.equal('OK'); // takes the copy
    h.clock.advance(30_000);
    const before = (await h.stores.factors.get('copy'))!.version;
    await guess(5);
    expect((await h.stores.factors.get('copy'))!.version).to.be.greaterThan(before);
    h.clock.advance(30_000);
    expect(await verify(h.code(secret))).to.equal('TOTP_SUSPENDED');
  });

  it('checks no code on the login copy while suspended: the right code and a wrong one cost the same (no timing oracle)', async () => {
    const { h, secret, verify, guess } = await setUp('oracle');
    expect(await verify(h.code(secret))).to.equal('OK'); // takes the copy
    h.clock.advance(30_000);
    await guess(5);
    expect(await verify('000000')).to.equal('TOTP_SUSPENDED'); // takes the suspended record's copy
    const factors = h.stores.factors as unknown as { spendStep: (...args: unknown[]) => Promise<unknown> };
    const spendStep = factors.spendStep.bind(factors);
    let spends = 0;
    factors.spendStep = async (...args) => {
      spends += 1;
      return spendStep(...args);
    };
    h.clock.advance(30_000);
    expect(await verify(h.code(secret))).to.equal('TOTP_SUSPENDED');
    expect(spends, 'a write tried for the right code on the copy').to.equal(0);
  });

  describe('a recovery code', () => {
    it('passes the lockout gate as before, restores TOTP, and resets the count and the escalation, with TOTP_RESTORED in its write', async () => {
      const { h, secret, verify, recover, guess, recoveryCodes } = await setUp('rae');
      await guess(5);
      expect(await recover(recoveryCodes[0]!)).to.equal('OK');
      const outbox = await h.stores.factors.outbox('rae');
      expect(outbox.slice(-2).map((e) => e.type)).to.deep.equal(['RECOVERY_CODE_USED', 'TOTP_RESTORED']);
      expect((await h.services.status.get('rae')).totpSuspendedAt).to.equal(null);
      expect((await h.stores.factors.get('rae'))!.failures).to.deep.equal({ count: 0, lockouts: 0, totpSuspendedAt: null });
      expect(await verify(h.code(secret))).to.equal('OK');
      h.clock.advance(30_000);
      expect(await guess(5), 'a fresh run: the limit again, and a first lockout of 60 s').to.deep.equal(['INVALID_CODE', 'LOCKED_OUT', 'INVALID_CODE', 'LOCKED_OUT', 'TOTP_SUSPENDED']);
    });

    it('whose failures, once suspended, count towards lockouts only', async () => {
      const { h, recover, guess, outboxTypes } = await setUp('rob');
      await guess(5);
      const reasons: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        reasons.push(await recover('AAAAA-AAAAA'));
        const { lockedUntil } = await h.services.status.get('rob');
        if (lockedUntil !== null) h.clock.advance(lockedUntil.getTime() - h.clock.now().getTime());
      }
      expect(reasons).to.deep.equal(['INVALID_CODE', 'LOCKED_OUT', 'INVALID_CODE', 'LOCKED_OUT', 'INVALID_CODE', 'LOCKED_OUT']);
      expect((await outboxTypes()).filter((t) => t === 'TOTP_SUSPENDED')).to.have.length(1);
      expect((await h.services.status.get('rob')).totpSuspendedAt).to.not.equal(null);
    });

    it('is what adding an authenticator needs while suspended: a TOTP existing_code is refused, a recovery code restores TOTP', async () => {
      const { h, secret, guess, recoveryCodes } = await setUp('ada');
      await guess(5);
      const begun = await h.services.enrollment.begin({ userId: 'ada', accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: true });
      const confirm = (existingCode: string) =>
        reasonOf(h.services.confirmation.confirm({ userId: 'ada', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode }));
      expect(await confirm(h.code(secret))).to.equal('TOTP_SUSPENDED');
      expect(await confirm(recoveryCodes[1]!)).to.equal('OK');
      expect((await h.services.status.get('ada')).totpSuspendedAt).to.equal(null);
      expect((await h.stores.factors.outbox('ada')).slice(-3).map((e) => e.type)).to.deep.equal(['AUTHENTICATOR_ADDED', 'RECOVERY_CODE_USED', 'TOTP_RESTORED']);
    });
  });

  describe('what clears the suspension, the durable count and the escalation', () => {
    it('ResetMfa, and turning MFA on again', async () => {
      const { h, guess } = await setUp('rex');
      await guess(5);
      await h.services.admin.resetMfa('rex', 'lost phone and codes');
      expect((await h.stores.factors.get('rex'))!.failures).to.deep.equal({ count: 0, lockouts: 0, totpSuspendedAt: null });
      const { secret } = await h.enroll('rex');
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'rex', code: h.code(secret), ...noDevice }))).to.equal('OK');
      expect((await h.services.status.get('rex')).totpSuspendedAt).to.equal(null);
    });

    it('ResetMfa retried after its Redis step failed: the retry answers MFA_NOT_ENABLED and still ends the lockout', async () => {
      const { h, guess, verify, wrong } = await setUp('rio');
      await guess(3);
      expect(await verify(wrong())).to.equal('LOCKED_OUT'); // the 4th failure: a 120 s lockout
      const clear = h.stores.attempts.clear.bind(h.stores.attempts);
      h.stores.attempts.clear = async () => {
        throw new Error('Redis went away');
      };
      expect(await reasonOf(h.services.admin.resetMfa('rio', 'lost phone'))).to.match(/Redis went away/);
      h.stores.attempts.clear = clear;
      expect(await reasonOf(h.services.admin.resetMfa('rio', 'lost phone'))).to.equal('MFA_NOT_ENABLED');
      expect(await h.stores.attempts.standing('rio')).to.deep.equal({ lockedMs: 0, failures: 0 });
    });

    it('DisableMfa with a recovery code (a TOTP code is refused while suspended)', async () => {
      const { h, secret, guess, recoveryCodes } = await setUp('dot');
      await guess(5);
      expect(await reasonOf(h.services.verification.disable({ userId: 'dot', code: h.code(secret) }))).to.equal('TOTP_SUSPENDED');
      expect(await reasonOf(h.services.verification.disable({ userId: 'dot', code: recoveryCodes[0]! }))).to.equal('OK');
      expect((await h.stores.factors.get('dot'))!.failures).to.deep.equal({ count: 0, lockouts: 0, totpSuspendedAt: null });
    });

    it('a passed TOTP check before the limit', async () => {
      const { h, secret, verify, guess } = await setUp('tia');
      await guess(4);
      expect(await verify(h.code(secret))).to.equal('OK');
      h.clock.advance(30_000);
      expect(await guess(5)).to.deep.equal(['INVALID_CODE', 'LOCKED_OUT', 'INVALID_CODE', 'LOCKED_OUT', 'TOTP_SUSPENDED']);
    });
  });

  describe("a security key's failures (WEBAUTHN_INVALID, issue 23)", () => {
    it('count towards lockouts only: not towards the suspension, in Redis nor in the durable count', async () => {
      const webauthn = { MFA_WEBAUTHN_RP_ID: 'example.com', MFA_WEBAUTHN_ORIGINS: 'https://app.example.com' };
      const { h, secret, guess, wrong, verify } = await setUp('kim', { ...webauthn, MFA_MAX_FAILED_ATTEMPTS: '5', MFA_MAX_CONSECUTIVE_FAILURES: '5', MFA_LOCKOUT_SECONDS: '60' });
      const key = new SoftAuthenticator({ origin: 'https://app.example.com', rpId: 'example.com' });
      const begun = await h.services.webauthnRegistration.begin({ userId: 'kim', userName: 'kim', userDisplayName: '', authenticatorLabel: '', addAuthenticator: true });
      await h.services.webauthnRegistration.finish({ userId: 'kim', registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson), code: h.code(secret), assertion: null });
      h.clock.advance(30_000);
      key.origin = 'https://phish.example.net';
      for (let i = 0; i < 4; i += 1) {
        const challenge = await h.services.webauthnAuthentication.begin('kim');
        const assertion = { challengeId: challenge.challengeId, credentialJson: key.assert(challenge.optionsJson) };
        expect(await reasonOf(h.services.verification.verifyWebAuthn({ userId: 'kim', assertion, ...noDevice }))).to.equal('WEBAUTHN_INVALID');
      }
      // The fifth failure in a row locks (MFA_MAX_FAILED_ATTEMPTS counts them all); it is the first code failure only.
      expect(await verify(wrong())).to.equal('LOCKED_OUT');
      expect((await h.stores.factors.get('kim'))!.failures).to.include({ count: 1, lockouts: 1, totpSuspendedAt: null });
      h.clock.advance(60_000);
      expect(await guess(4)).to.deep.equal(['INVALID_CODE', 'INVALID_CODE', 'INVALID_CODE', 'TOTP_SUSPENDED']);
      expect((await h.stores.factors.get('kim'))!.failures.count).to.equal(5);
    });
  });

  describe('durable counts', () => {
    it('keeps the count and the escalation in the user record: losing the Redis count gives at most MFA_MAX_FAILED_ATTEMPTS extra guesses', async () => {
      const { h, guess, verify, wrong } = await setUp('flo');
      await guess(3); // two in the record (one lockout), one in Redis
      expect((await h.stores.factors.get('flo'))!.failures).to.include({ count: 2, lockouts: 1 });
      await h.stores.attempts.clear('flo'); // FLUSHALL
      expect(await verify(wrong())).to.equal('INVALID_CODE');
      const locked = await h.services.verification.verifyTotp({ userId: 'flo', code: wrong(), ...noDevice }).catch((e: { reason: string; retryAfterMs: number }) => e);
      expect(locked).to.include({ reason: 'LOCKED_OUT', retryAfterMs: 120_000 }); // the escalation survived
      h.clock.advance(120_000);
      expect(await guess(1)).to.deep.equal(['TOTP_SUSPENDED']); // 6 judged in all: one lost with Redis
    });

    it('loses no failure when a lockout\'s write fails: they count again, and the next failure locks and records them', async () => {
      const { h, guess, verify, wrong } = await setUp('lee');
      h.faults.factors('recordLockout', 'before');
      expect(await guess(2)).to.deep.equal(['INVALID_CODE', 'LOCKED_OUT']);
      expect((await h.stores.factors.get('lee'))!.failures).to.include({ count: 0, lockouts: 0 });
      expect((await h.stores.attempts.standing('lee')).failures, 'counted again in the attempt store').to.equal(2);
      expect(await verify(wrong())).to.equal('LOCKED_OUT'); // the lockout has been waited out: the third failure locks at once
      expect((await h.stores.factors.get('lee'))!.failures).to.include({ count: 3, lockouts: 1 });
      h.clock.advance((await h.services.status.get('lee')).lockedUntil!.getTime() - h.clock.now().getTime());
      expect(await guess(2)).to.deep.equal(['INVALID_CODE', 'TOTP_SUSPENDED']); // the 5th in a row suspends: none was lost
    });

    it('never loses the suspension: when its write fails, the count stays at the limit and the next failure suspends', async () => {
      const { h, guess, verify, wrong } = await setUp('fay');
      await guess(4);
      h.faults.factors('suspendTotp', 'before');
      expect(await verify(wrong())).to.equal('STORE_UNAVAILABLE');
      expect((await h.services.status.get('fay')).totpSuspendedAt).to.equal(null);
      expect(await verify(wrong())).to.equal('TOTP_SUSPENDED');
      expect((await h.services.status.get('fay')).totpSuspendedAt).to.not.equal(null);
      expect((await h.stores.factors.get('fay'))!.failures.count).to.equal(6);
    });
  });
});

describe('loadConfig: MFA_MAX_CONSECUTIVE_FAILURES (issue 22)', () => {
  it('defaults to 100 (NIST SP 800-63B-4 §3.2.2), and takes MFA_MAX_FAILED_ATTEMPTS to 100', () => {
    expect(loadConfig({}).maxConsecutiveFailures).to.equal(100);
    expect(loadConfig({ MFA_MAX_FAILED_ATTEMPTS: '7', MFA_MAX_CONSECUTIVE_FAILURES: '7' }).maxConsecutiveFailures).to.equal(7);
  });

  for (const value of ['4', '101', 'ten']) {
    it(`stops start-up with a one-line ConfigError naming it for "${value}" (MFA_MAX_FAILED_ATTEMPTS=5)`, () => {
      expect(() => loadConfig({ MFA_MAX_CONSECUTIVE_FAILURES: value })).to.throw(
        ConfigError,
        new RegExp(`^MFA_MAX_CONSECUTIVE_FAILURES must be a whole number from 5 to 100, got "${value}"$`),
      );
    });
  }
});
