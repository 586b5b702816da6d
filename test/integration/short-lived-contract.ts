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
    });


    describe('AttemptStore', () => {
      const policy = { maxFailures: 3, lockoutMs: 400 };
      let step = 1000;
      const fresh = () => ({ timeStep: (step += 1) });

      it('locks after maxFailures consecutive failures and refuses even a passed check while locked', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, null, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: false });
        expect(await s.attempts.settle(user, null, policy)).to.deep.equal({ kind: 'rejected', failures: 2, reused: false });
        const locked = await s.attempts.settle(user, null, policy);
        expect(locked.kind).to.equal('locked');
        expect((await s.attempts.settle(user, fresh(), policy)).kind).to.equal('locked');
        const left = await s.attempts.lockoutRemainingMs(user);
        expect(left).to.be.greaterThan(0).and.at.most(400);
        expect(await s.attempts.lockoutRemainingMs(newUser())).to.equal(0);
        await s.elapse(500);
        expect(await s.attempts.lockoutRemainingMs(user)).to.equal(0);
        expect(await s.attempts.settle(user, fresh(), policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('resets the count on a passed check', async () => {
        const user = newUser();
        await s.attempts.settle(user, null, policy);
        await s.attempts.settle(user, null, policy);
        expect(await s.attempts.settle(user, fresh(), policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, null, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: false });
      });

      it('claims a TOTP step only when it is newer than every claimed one, counting a replay as a failure', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: true });
        expect(await s.attempts.settle(user, { timeStep: 49 }, policy)).to.deep.equal({ kind: 'rejected', failures: 2, reused: true });
        expect(await s.attempts.settle(user, { timeStep: 51 }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(newUser(), { timeStep: 50 }, policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('starts the step claims afresh for the first step of a new secret', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 50, firstStep: true }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: true });
        expect(await s.attempts.settle(user, { timeStep: 40, firstStep: true }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 41 }, policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('claims a recovery code hash once', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, { recoveryCodeHash: 'h1' }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { recoveryCodeHash: 'h1' }, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: true });
        expect(await s.attempts.settle(user, { recoveryCodeHash: 'h2' }, policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('lets exactly one of many concurrent claims of the same step win', async () => {
        const user = newUser();
        const lenient = { maxFailures: 100, lockoutMs: 10_000 };
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => s.attempts.settle(user, { timeStep: 7 }, lenient)));
        expect(outcomes.filter((o) => o.kind === 'accepted')).to.have.length(1);
      });

      it('counts concurrent failures exactly', async () => {
        const user = newUser();
        const lenient = { maxFailures: 100, lockoutMs: 10_000 };
        await Promise.all(Array.from({ length: 10 }, () => s.attempts.settle(user, null, lenient)));
        expect(await s.attempts.settle(user, null, lenient)).to.deep.equal({ kind: 'rejected', failures: 11, reused: false });
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
