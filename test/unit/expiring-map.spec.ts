import { expect } from 'chai';
import { ExpiringMap } from '../../src/stores/memory/expiring-map.js';
import { MemoryAttemptStore } from '../../src/stores/memory/memory-attempt-store.js';
import { MemoryPendingEnrollmentStore } from '../../src/stores/memory/memory-pending-enrollment-store.js';
import { MemoryLoginCopyStore } from '../../src/stores/memory/memory-login-copy-store.js';
import { FakeClock } from '../support/fake-clock.js';

describe('the embedded stores keep nothing past its expiry', () => {
  describe('ExpiringMap', () => {
    it('reads an entry as missing from its expiry on, and extends only a live one', () => {
      const clock = new FakeClock();
      const map = new ExpiringMap<string>(clock);
      const now = clock.now().getTime();
      map.set('a', 'A', now + 1_000);
      map.set('b', 'B', now + 1_000);
      map.extend('a', now + 2_000);
      clock.advance(1_500);
      expect(map.get('a')).to.equal('A');
      map.extend('b', now + 9_000);
      expect(map.get('b'), 'expired before it was extended').to.equal(undefined);
      clock.advance(500);
      expect(map.get('a')).to.equal(undefined);
    });

    it('removes every expired entry nobody reads again on a write at most every 10 s', () => {
      const clock = new FakeClock();
      const map = new ExpiringMap<number>(clock);
      for (let i = 0; i < 100; i += 1) map.set(`k${i}`, i, clock.now().getTime() + 1_000);
      clock.advance(1_000);
      map.set('early', 0, clock.now().getTime() + 60_000);
      expect(map.held, 'the first write swept, 1 s ago').to.equal(101);
      clock.advance(9_000);
      map.set('late', 0, clock.now().getTime() + 60_000);
      expect(map.held, '10 s after the first').to.equal(2);
      map.set('short', 0, clock.now().getTime() + 1_000);
      clock.advance(5_000);
      map.set('other', 0, clock.now().getTime() + 60_000);
      expect(map.held, 'within 10 s of the last sweep').to.equal(4);
      clock.advance(5_000);
      map.set('another', 0, clock.now().getTime() + 60_000);
      expect(map.held).to.equal(4);
    });
  });

  it('MemoryPendingEnrollmentStore: a confirmed enrollment lives until keepUntil, and goes once expired though nobody reads it again', async () => {
    const clock = new FakeClock();
    const pending = new MemoryPendingEnrollmentStore(clock);
    const at = (ms: number) => new Date(clock.now().getTime() + ms);
    const enrollment = (userId: string) => ({ enrollmentId: `enr_${userId}`, userId, authenticatorId: 'aut', label: 'app', adding: false, sealedSecret: 'sealed', expiresAt: at(60_000) });
    for (let i = 0; i < 50; i += 1) {
      expect(await pending.put(enrollment(`u${i}`))).to.equal(true);
      expect(await pending.confirm(`u${i}`, `enr_u${i}`, { timeStep: 1 } as never, at(120_000))).to.not.equal(null);
    }
    clock.advance(119_999);
    await pending.put(enrollment('mid'));
    expect(pending.held, 'kept until keepUntil, past their own expiry').to.equal(51);
    clock.advance(10_001);
    await pending.put(enrollment('next'));
    expect(pending.held).to.equal(2);
  });

  it('MemoryAttemptStore: reads create nothing, and a count stays until a pass or clear() (it never expires, issue 22)', async () => {
    const clock = new FakeClock();
    const attempts = new MemoryAttemptStore(clock);
    const policy = { maxFailures: 3, lockoutMs: 60_000 };
    await attempts.standing('reader');
    await attempts.lockoutRemainingMs('reader');
    expect(attempts.held).to.equal(0);
    await attempts.settle('passer', false, policy);
    expect(await attempts.standing('passer')).to.deep.equal({ lockedMs: 0, failures: 1 });
    await attempts.settle('passer', true, policy);
    expect(attempts.held).to.equal(0);
    for (let i = 0; i < 3; i += 1) await attempts.settle('guesser', false, policy);
    expect((await attempts.standing('guesser')).lockedMs).to.equal(60_000);
    clock.advance(365 * 86_400_000);
    expect(await attempts.standing('guesser'), 'the lockout ended').to.deep.equal({ lockedMs: 0, failures: 0 });
    await attempts.settle('guesser', false, policy);
    clock.advance(365 * 86_400_000);
    await attempts.settle('other', false, policy);
    expect(await attempts.standing('guesser'), 'a year later').to.deep.equal({ lockedMs: 0, failures: 1 });
    expect(attempts.held).to.equal(2);
    await attempts.clear('guesser');
    expect(attempts.held).to.equal(1);
  });

  it('MemoryLoginCopyStore: a copy lives its TTL from its last read, and goes once expired', async () => {
    const clock = new FakeClock();
    const copies = new MemoryLoginCopyStore({ clock, ttlMs: 1_000 });
    const copy = (userId: string) => ({ userId, version: 1, authenticators: [], recoveryCodesRemaining: 10 });
    await copies.put(copy('kept'));
    await copies.put(copy('dropped'));
    clock.advance(800);
    expect(await copies.get('kept')).to.not.equal(null);
    clock.advance(800);
    expect(await copies.get('kept'), 'read 800 ms ago').to.not.equal(null);
    clock.advance(10_000);
    await copies.put(copy('new'));
    expect(copies.held).to.equal(1);
  });
});
