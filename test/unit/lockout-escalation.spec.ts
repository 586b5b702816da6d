import { expect } from 'chai';
import { MfaError } from '../../src/domain/errors.js';
import { serviceHarness } from '../support/service-harness.js';

/** The reason a call ends with and, for LOCKED_OUT, the delay it tells the caller (RetryInfo). */
async function outcomeOf(call: Promise<unknown>): Promise<{ reason: string; retryAfterMs?: number }> {
  try {
    await call;
    return { reason: 'OK' };
  } catch (error) {
    if (!(error instanceof MfaError)) throw error;
    return error.retryAfterMs === undefined ? { reason: error.reason } : { reason: error.reason, retryAfterMs: error.retryAfterMs };
  }
}

describe('escalating lockouts (issue 22; in-memory stores, fake clock)', () => {
  const noDevice = { rememberDevice: false, deviceLabel: '' };
  // 2 failures a lockout; lockouts of 60 s, 120 s, 240 s, then 300 s (the cap) each.
  const settings = { MFA_MAX_FAILED_ATTEMPTS: '2', MFA_LOCKOUT_SECONDS: '60', MFA_LOCKOUT_MAX_SECONDS: '300' };
  const WRONG = '000000';

  function setUp(userId: string, env: Record<string, string> = settings) {
    const h = serviceHarness(env);
    const verify = (code: string) => outcomeOf(h.services.verification.verifyTotp({ userId, code, ...noDevice }));
    /** Two wrong codes: the second starts a lockout, whose length it returns. */
    const lockOut = async () => {
      expect(await verify(WRONG)).to.deep.equal({ reason: 'INVALID_CODE' });
      const locked = await verify(WRONG);
      expect(locked.reason).to.equal('LOCKED_OUT');
      return locked.retryAfterMs!;
    };
    return { h, verify, lockOut };
  }

  it('makes the k-th lockout in a row last MFA_LOCKOUT_SECONDS × 2^(k−1), up to MFA_LOCKOUT_MAX_SECONDS', async () => {
    const { h, lockOut } = setUp('esc');
    await h.enroll('esc');
    const lengths: number[] = [];
    for (let k = 1; k <= 5; k += 1) {
      const length = await lockOut();
      lengths.push(length);
      h.clock.advance(length);
    }
    expect(lengths).to.deep.equal([60_000, 120_000, 240_000, 300_000, 300_000]);
  });

  it('tells the real time left of the current lockout, even to the right code', async () => {
    const { h, verify, lockOut } = setUp('left');
    const { secret } = await h.enroll('left');
    h.clock.advance(await lockOut());
    expect(await lockOut()).to.equal(120_000);
    h.clock.advance(45_000);
    expect(await verify(h.code(secret))).to.deep.equal({ reason: 'LOCKED_OUT', retryAfterMs: 75_000 });
    const status = await h.services.status.get('left');
    expect(status.lockedUntil?.getTime()).to.equal(h.clock.now().getTime() + 75_000);
  });

  it('never forgets a failure on a quiet period: one short of the limit, then a day later, still locks', async () => {
    const { h, verify } = setUp('pause', { MFA_MAX_FAILED_ATTEMPTS: '3', MFA_LOCKOUT_SECONDS: '60' });
    await h.enroll('pause');
    expect(await verify(WRONG)).to.deep.equal({ reason: 'INVALID_CODE' });
    expect(await verify(WRONG)).to.deep.equal({ reason: 'INVALID_CODE' });
    h.clock.advance(86_400_000);
    expect(await verify(WRONG)).to.deep.equal({ reason: 'LOCKED_OUT', retryAfterMs: 60_000 });
  });

  it('keeps the escalation across the pauses between lockouts: the attacker who waits each one out gets no shorter one', async () => {
    const { h, lockOut } = setUp('waiter');
    await h.enroll('waiter');
    h.clock.advance((await lockOut()) + 3_600_000);
    h.clock.advance((await lockOut()) + 86_400_000);
    expect(await lockOut()).to.equal(240_000);
  });

  describe('what starts the count and the escalation again', () => {
    it('a passed TOTP check', async () => {
      const { h, verify, lockOut } = setUp('totp');
      const { secret } = await h.enroll('totp');
      h.clock.advance(await lockOut());
      h.clock.advance(await lockOut());
      expect(await verify(WRONG)).to.deep.equal({ reason: 'INVALID_CODE' });
      expect(await verify(h.code(secret))).to.deep.equal({ reason: 'OK' });
      expect(await lockOut(), 'a first lockout again, after a fresh count of 2').to.equal(60_000);
    });

    it('a passed recovery code', async () => {
      const { h, lockOut } = setUp('rc');
      const { recoveryCodes } = await h.enroll('rc');
      h.clock.advance(await lockOut());
      h.clock.advance(await lockOut());
      await h.services.verification.verifyRecoveryCode({ userId: 'rc', recoveryCode: recoveryCodes[0]!, ...noDevice });
      expect(await lockOut()).to.equal(60_000);
    });

    it('a login on the login copy: its one update clears the durable count and escalation too', async () => {
      const { h, verify, lockOut } = setUp('copy');
      const { secret } = await h.enroll('copy');
      expect(await verify(h.code(secret))).to.deep.equal({ reason: 'OK' }); // takes the copy
      h.clock.advance(30_000);
      h.clock.advance(await lockOut());
      expect((await h.stores.factors.get('copy'))!.failures).to.deep.equal({ count: 2, lockouts: 1, totpSuspendedAt: null });
      const version = (await h.stores.factors.get('copy'))!.version;
      expect(await verify(h.code(secret))).to.deep.equal({ reason: 'OK' });
      const after = (await h.stores.factors.get('copy'))!;
      expect(after.version, 'the login went on the copy').to.equal(version);
      expect(after.failures).to.deep.equal({ count: 0, lockouts: 0, totpSuspendedAt: null });
      expect(await lockOut()).to.equal(60_000);
    });

    it('DisableMfa (a passed check) and turning MFA on again', async () => {
      const { h, verify, lockOut } = setUp('dis');
      const { secret } = await h.enroll('dis');
      h.clock.advance(await lockOut());
      expect(await verify(WRONG)).to.deep.equal({ reason: 'INVALID_CODE' });
      await h.services.verification.disable({ userId: 'dis', code: h.code(secret) });
      expect(await h.stores.attempts.standing('dis')).to.deep.equal({ lockedMs: 0, failures: 0 });
      expect((await h.stores.factors.get('dis'))!.failures).to.deep.equal({ count: 0, lockouts: 0, totpSuspendedAt: null });
      await h.enroll('dis');
      expect(await lockOut()).to.equal(60_000);
    });

    it('ResetMfa, which needs no code: it clears the failures, the lockout and the escalation', async () => {
      const { h, verify, lockOut } = setUp('reset');
      await h.enroll('reset');
      h.clock.advance(await lockOut());
      await lockOut();
      expect(await verify(WRONG)).to.include({ reason: 'LOCKED_OUT' });
      await h.services.admin.resetMfa('reset', 'lost phone');
      expect(await h.stores.attempts.standing('reset')).to.deep.equal({ lockedMs: 0, failures: 0 });
      expect((await h.stores.factors.get('reset'))!.failures).to.deep.equal({ count: 0, lockouts: 0, totpSuspendedAt: null });
      expect((await h.services.status.get('reset')).lockedUntil).to.equal(null);
      await h.enroll('reset');
      expect(await lockOut()).to.equal(60_000);
    });
  });
});
