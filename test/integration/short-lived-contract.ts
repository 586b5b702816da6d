import { expect } from 'chai';
import { newUser, type StoreFixture } from './contract-support.js';

/** The rules of the short-lived stores (pending enrollments, attempts, revocation cache). */
export function shortLivedStoresContract(fixture: () => StoreFixture): void {
  describe('short-lived state (Redis)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });

    describe('PendingEnrollmentStore', () => {
      const pendingFor = (user: string, id: string, ttlMs: number) => ({
        enrollmentId: id,
        userId: user,
        authenticatorId: 'aut_aaaaaaaaaaaaaaaa',
        label: 'Phone',
        adding: false,
        sealedSecret: 'sealed',
        expiresAt: new Date(s.clock.now().getTime() + ttlMs),
      });

      it('stores, replaces and removes by id', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 60_000));
        expect((await s.pending.get(user))!.enrollmentId).to.equal('enr_1');
        await s.pending.put(pendingFor(user, 'enr_2', 60_000));
        const found = (await s.pending.get(user))!;
        expect(found).to.deep.include({ enrollmentId: 'enr_2', userId: user, sealedSecret: 'sealed' });
        expect(await s.pending.remove(user, 'enr_1')).to.equal(false);
        expect(await s.pending.remove(user, 'enr_2')).to.equal(true);
        expect(await s.pending.get(user)).to.equal(null);
      });

      it('forgets an enrollment once it expires', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 300));
        expect(await s.pending.get(user)).to.not.equal(null);
        await s.elapse(400);
        expect(await s.pending.get(user)).to.equal(null);
        expect(await s.pending.remove(user, 'enr_1')).to.equal(false);
      });

      const confirmation = (step: number) => ({ timeStep: step, enabledAt: new Date(Date.UTC(2026, 0, 1, 0, 0, step)), sealedRecoveryCodes: `sealed-codes-${step}`, recordVersion: step * 2 });

      it('records the first confirmation of an enrollment only, and keeps it until keepUntil', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 300));
        expect(await s.pending.confirm(user, 'enr_2', confirmation(1), new Date(s.clock.now().getTime() + 5000))).to.equal(null);
        const keepUntil = new Date(s.clock.now().getTime() + 1500);
        const first = await s.pending.confirm(user, 'enr_1', confirmation(1), keepUntil);
        expect(first!.confirmation).to.deep.equal(confirmation(1));
        expect(first!.expiresAt.getTime()).to.equal(keepUntil.getTime());
        const second = await s.pending.confirm(user, 'enr_1', confirmation(2), new Date(s.clock.now().getTime() + 9000));
        expect(second!.confirmation).to.deep.equal(confirmation(1));
        await s.elapse(500);
        expect((await s.pending.get(user))!.confirmation).to.deep.equal(confirmation(1));
        await s.elapse(1200);
        expect(await s.pending.get(user)).to.equal(null);
      });

      it('never lets Begin replace, nor Cancel remove, a confirmed enrollment; discard (by id) and clear remove it', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 60_000));
        await s.pending.confirm(user, 'enr_1', confirmation(7), new Date(s.clock.now().getTime() + 60_000));
        expect(await s.pending.put(pendingFor(user, 'enr_2', 60_000))).to.equal(false);
        expect(await s.pending.remove(user, 'enr_1')).to.equal(false);
        expect((await s.pending.get(user))!.enrollmentId).to.equal('enr_1');
        await s.pending.discard(user, 'enr_other');
        expect(await s.pending.get(user)).to.not.equal(null);
        await s.pending.discard(user, 'enr_1');
        expect(await s.pending.get(user)).to.equal(null);
        await s.pending.put(pendingFor(user, 'enr_1', 60_000));
        await s.pending.clear(user);
        expect(await s.pending.get(user)).to.equal(null);
        expect(await s.pending.put(pendingFor(user, 'enr_2', 60_000))).to.equal(true);
      });

      it('never replaces a confirmed enrollment named by keepConfirmedId, even with replaceConfirmed; any other as before', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 60_000));
        expect(await s.pending.put(pendingFor(user, 'enr_2', 60_000), { keepConfirmedId: 'enr_1' })).to.equal(true);
        await s.pending.confirm(user, 'enr_2', confirmation(3), new Date(s.clock.now().getTime() + 60_000));
        expect(await s.pending.put(pendingFor(user, 'enr_3', 60_000), { replaceConfirmed: true, keepConfirmedId: 'enr_2' })).to.equal(false);
        expect((await s.pending.get(user))!.enrollmentId).to.equal('enr_2');
        expect(await s.pending.put(pendingFor(user, 'enr_3', 60_000), { replaceConfirmed: true, keepConfirmedId: 'enr_1' })).to.equal(true);
        expect((await s.pending.get(user))!.enrollmentId).to.equal('enr_3');
      });

      it('lets exactly one of many concurrent confirmations of one enrollment set the outcome', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 60_000));
        const keep = new Date(s.clock.now().getTime() + 60_000);
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.pending.confirm(user, 'enr_1', confirmation(i + 1), keep)));
        const steps = new Set(results.map((r) => r!.confirmation!.timeStep));
        expect(steps.size).to.equal(1);
      });
    });


    describe('AttemptStore', () => {
      const policy = { maxFailures: 3, lockoutMs: 400 };

      it('locks after maxFailures consecutive failures and refuses even a passed check while locked', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'rejected', failures: 1 });
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'rejected', failures: 2 });
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'locked', retryAfterMs: 400, failures: 3, codeFailures: 3 });
        const passedWhileLocked = await s.attempts.settle(user, true, policy);
        expect(passedWhileLocked.kind).to.equal('locked');
        const left = await s.attempts.lockoutRemainingMs(user);
        expect(left).to.be.greaterThan(0).and.at.most(400);
        expect(await s.attempts.lockoutRemainingMs(newUser())).to.equal(0);
        await s.elapse(500);
        expect(await s.attempts.lockoutRemainingMs(user)).to.equal(0);
        expect(await s.attempts.settle(user, true, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'rejected', failures: 1 });
      });

      it('resets the count on a passed check', async () => {
        const user = newUser();
        await s.attempts.settle(user, false, policy);
        await s.attempts.settle(user, false, policy);
        expect(await s.attempts.settle(user, true, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'rejected', failures: 1 });
      });

      it('keeps failures through a quiet period: only a pass ends a run (issue 22)', async () => {
        const user = newUser();
        await s.attempts.settle(user, false, policy);
        await s.attempts.settle(user, false, policy);
        await s.elapse(500);
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'locked', retryAfterMs: 400, failures: 3, codeFailures: 3 });
      });

      it('answers limit at suspendAt instead of locking, and keeps the count until clear() (issue 22)', async () => {
        const user = newUser();
        const limited = { maxFailures: 2, lockoutMs: 10_000, suspendAt: 4 };
        expect(await s.attempts.settle(user, false, limited)).to.deep.equal({ kind: 'rejected', failures: 1 });
        expect(await s.attempts.settle(user, false, limited)).to.deep.include({ kind: 'locked', failures: 2 });
        await s.attempts.clear(user);
        for (let i = 1; i <= 3; i += 1) await s.attempts.settle(user, false, { ...limited, maxFailures: 100 });
        expect(await s.attempts.settle(user, false, limited)).to.deep.equal({ kind: 'limit', failures: 4 });
        expect(await s.attempts.standing(user), 'no lockout; the count stays for a retry of the suspension').to.deep.equal({ lockedMs: 0, failures: 4 });
        expect(await s.attempts.settle(user, false, limited)).to.deep.equal({ kind: 'limit', failures: 5 });
        await s.attempts.clear(user);
        expect(await s.attempts.settle(user, false, { maxFailures: 3, lockoutMs: 10_000 })).to.deep.equal({ kind: 'rejected', failures: 1 });
      });

      it('suspended() answers checks of a record no newer than it marks "suspended", counting nothing; others count from zero; a pass or clear() ends it', async () => {
        const user = newUser();
        const stale = { maxFailures: 3, lockoutMs: 10_000, suspendAt: 2, readVersion: 7 };
        await s.attempts.settle(user, false, stale);
        await s.attempts.suspended(user, 7);
        expect(await s.attempts.settle(user, false, { ...stale, readVersion: 6 }), 'an older record').to.deep.equal({ kind: 'suspended' });
        expect(await s.attempts.settle(user, false, stale)).to.deep.equal({ kind: 'suspended' });
        expect(await s.attempts.settle(user, true, stale)).to.deep.equal({ kind: 'suspended' });
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 0 });
        expect(await s.attempts.settle(user, false, policy), 'a caller that read the suspension').to.deep.equal({ kind: 'rejected', failures: 1 });
        expect(await s.attempts.settle(user, false, { ...stale, suspendAt: 10, readVersion: 9 }), 'a record restored since: counted').to.deep.equal({ kind: 'rejected', failures: 2 });
        expect(await s.attempts.settle(user, true, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, false, stale), 'the pass ended the mark').to.deep.equal({ kind: 'rejected', failures: 1 });
        await s.attempts.suspended(user, 7);
        await s.attempts.clear(user);
        expect(await s.attempts.settle(user, false, stale), 'clear() ended the mark').to.deep.equal({ kind: 'rejected', failures: 1 });
      });

      it('restore() counts failures again, with none of them expiring, towards the next lockout', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'rejected', failures: 1 });
        await s.attempts.restore(user, 3, 1);
        await s.elapse(500);
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 4 });
        // 2 of the 4 restored and counted are code failures: the key failures restored stay apart.
        expect(await s.attempts.settle(user, false, { maxFailures: 10, lockoutMs: 400, suspendAt: 3 })).to.deep.equal({ kind: 'limit', failures: 3 });
        await s.attempts.clear(user);
        await s.attempts.restore(user, 4, 4);
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'locked', retryAfterMs: 400, failures: 5, codeFailures: 5 });
      });

      it("counts a security key's failures towards maxFailures but never towards suspendAt, also in the lockout's code failures (issue 23)", async () => {
        const user = newUser();
        const limited = { maxFailures: 5, lockoutMs: 400, suspendAt: 2 };
        for (let i = 1; i <= 3; i += 1) {
          expect(await s.attempts.settle(user, false, { maxFailures: 5, lockoutMs: 400, keyFailure: true })).to.deep.equal({ kind: 'rejected', failures: i });
        }
        expect(await s.attempts.settle(user, false, limited), 'one code failure, three key failures').to.deep.equal({ kind: 'rejected', failures: 4 });
        expect(await s.attempts.settle(user, false, { ...limited, suspendAt: 3 })).to.deep.equal({ kind: 'locked', retryAfterMs: 400, failures: 5, codeFailures: 2 });
        await s.elapse(500);
        // The lockout cleared both counts.
        expect(await s.attempts.settle(user, false, limited)).to.deep.equal({ kind: 'rejected', failures: 1 });
        expect(await s.attempts.settle(user, false, { ...limited, keyFailure: true })).to.deep.equal({ kind: 'rejected', failures: 2 });
        expect(await s.attempts.settle(user, false, limited)).to.deep.equal({ kind: 'limit', failures: 2 });
        // suspended() and a pass forget the key failures too.
        await s.attempts.suspended(user, 1);
        await s.attempts.settle(user, true, { maxFailures: 5, lockoutMs: 400 });
        await s.attempts.settle(user, false, { maxFailures: 5, lockoutMs: 400, keyFailure: true });
        await s.attempts.settle(user, true, { maxFailures: 5, lockoutMs: 400 });
        expect(await s.attempts.settle(user, false, { ...limited, suspendAt: 1 })).to.deep.equal({ kind: 'limit', failures: 1 });
      });

      it('locks for the lockoutMs it is given (the caller escalates)', async () => {
        const user = newUser();
        await s.attempts.settle(user, false, policy);
        await s.attempts.settle(user, false, policy);
        expect(await s.attempts.settle(user, false, { ...policy, lockoutMs: 250 })).to.deep.equal({ kind: 'locked', retryAfterMs: 250, failures: 3, codeFailures: 3 });
        const left = await s.attempts.lockoutRemainingMs(user);
        expect(left).to.be.greaterThan(0).and.at.most(250);
      });

      it('clear() forgets the failures and the lockout', async () => {
        const user = newUser();
        for (let i = 0; i < 3; i += 1) await s.attempts.settle(user, false, policy);
        await s.attempts.settle(user, false, { ...policy, maxFailures: 100 });
        await s.attempts.clear(user);
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 0 });
        expect(await s.attempts.settle(user, false, policy)).to.deep.equal({ kind: 'rejected', failures: 1 });
        await s.attempts.clear(newUser());
      });

      it('tells the standing (lockout left, failures counted) without changing it', async () => {
        const user = newUser();
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 0 });
        await s.attempts.settle(user, false, policy);
        await s.attempts.settle(user, false, policy);
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 2 });
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 2 });
        await s.attempts.settle(user, false, policy);
        const locked = await s.attempts.standing(user);
        expect(locked.lockedMs).to.be.greaterThan(0).and.at.most(400);
        await s.elapse(500);
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 0 });
        await s.attempts.settle(user, false, policy);
        await s.attempts.settle(user, true, policy);
        expect(await s.attempts.standing(user)).to.deep.equal({ lockedMs: 0, failures: 0 });
      });

      it('counts concurrent failures exactly, and locks once', async () => {
        const user = newUser();
        const lenient = { maxFailures: 100, lockoutMs: 10_000 };
        await Promise.all(Array.from({ length: 10 }, () => s.attempts.settle(user, false, lenient)));
        expect(await s.attempts.settle(user, false, lenient)).to.deep.equal({ kind: 'rejected', failures: 11 });
        const strict = { maxFailures: 3, lockoutMs: 10_000 };
        const other = newUser();
        const outcomes = await Promise.all(Array.from({ length: 10 }, () => s.attempts.settle(other, false, strict)));
        expect(outcomes.filter((o) => o.kind === 'locked' && o.failures === 3)).to.have.length(1);
        expect(outcomes.filter((o) => o.kind === 'rejected')).to.have.length(2);
      });
    });


    describe('LoginCopyStore', () => {
      const copyOf = (userId: string, version: number, lastTimeStep = 100) => ({
        userId,
        version,
        authenticators: [
          { authenticatorId: 'aut_aaaaaaaaaaaaaaaa', sealedSecret: 'v1.k.sealed-a', lastTimeStep },
          { authenticatorId: 'aut_bbbbbbbbbbbbbbbb', sealedSecret: 'v1.k.sealed-b', lastTimeStep: 7 },
        ],
        recoveryCodesRemaining: 9,
      });

      // The fixtures' stores keep a copy for 300 ms after it was last put or read.
      it('misses, keeps a copy as put, and replaces it with the next put', async () => {
        const user = newUser();
        expect(await s.loginCopies.get(user)).to.equal(null);
        await s.loginCopies.put(copyOf(user, 3));
        expect(await s.loginCopies.get(user)).to.deep.equal(copyOf(user, 3));
        await s.loginCopies.put(copyOf(user, 2, 90));
        expect(await s.loginCopies.get(user)).to.deep.equal(copyOf(user, 2, 90));
      });

      it('forgets a copy a time to live after it was last put or read, and keeps users apart, even with braces and colons in their ids', async () => {
        const a = `${newUser()}}:x{`;
        const b = `${a}}`;
        await s.loginCopies.put(copyOf(a, 1));
        expect(await s.loginCopies.get(b)).to.equal(null);
        await s.elapse(200);
        expect(await s.loginCopies.get(a), 'read within its time to live').to.deep.equal(copyOf(a, 1));
        await s.elapse(200);
        expect(await s.loginCopies.get(a), 'the read renewed it').to.deep.equal(copyOf(a, 1));
        await s.elapse(400);
        expect(await s.loginCopies.get(a)).to.equal(null);
      });
    });

    describe('RevocationCache', () => {
      it('misses, caches "never", and only moves forward', async () => {
        const user = newUser();
        expect(await s.revocations.get(user)).to.equal(undefined);
        await s.revocations.raise(user, null);
        expect(await s.revocations.get(user)).to.equal(null);
        const t1 = new Date(Date.UTC(2026, 5, 1));
        await s.revocations.raise(user, t1);
        await s.revocations.raise(user, new Date(Date.UTC(2026, 4, 1)));
        await s.revocations.raise(user, null);
        expect((await s.revocations.get(user))!.getTime()).to.equal(t1.getTime());
      });

      it('keeps users apart, even with braces and colons in their ids', async () => {
        const a = `${newUser()}}:x{`;
        const b = `${a}}`;
        await s.revocations.raise(a, new Date(1000));
        expect(await s.revocations.get(b)).to.equal(undefined);
      });
    });
  });
}
