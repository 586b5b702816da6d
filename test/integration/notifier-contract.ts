import { expect } from 'chai';
import { newUser, type StoreFixture } from './contract-support.js';

/** What one listener heard, and a way to wait for a given notice. */
function listener() {
  const heard: string[] = [];
  const waiting = new Map<string, () => void>();
  return {
    heard,
    hear: (enrollmentId: string) => {
      heard.push(enrollmentId);
      waiting.get(enrollmentId)?.();
    },
    /** Resolves once `enrollmentId` has been heard (the test's timeout fails it otherwise). */
    heardOf: (enrollmentId: string) =>
      heard.includes(enrollmentId) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(enrollmentId, resolve)),
  };
}

/** The rules of the notices that wake watching streams, on every instance. */
export function confirmationNotifierContract(fixture: () => StoreFixture): void {
  describe('notices between instances (Redis pub/sub)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });

    describe('Notifier', () => {
      it('brings a notice to every listener of its user on every instance, and to no other user, even with braces and colons in ids', async () => {
        const [here, there] = s.notifiers;
        const user = `${newUser()}}:x{`;
        const other = `${user}}`;
        const [a, b, c, stranger] = [listener(), listener(), listener(), listener()];
        const leave = [
          await here.subscribe(user, a.hear),
          await here.subscribe(user, b.hear),
          await there.subscribe(user, c.hear),
          await there.subscribe(other, stranger.hear),
        ];
        expect(await there.publish(user, 'enr_1')).to.equal(new Set(s.notifiers).size);
        await Promise.all([a.heardOf('enr_1'), b.heardOf('enr_1'), c.heardOf('enr_1')]);
        await here.publish(other, 'enr_2');
        await stranger.heardOf('enr_2');
        // Notices of one channel arrive in order: had enr_2 gone to `user` too, it would come before enr_3.
        await here.publish(user, 'enr_3');
        await Promise.all([a.heardOf('enr_3'), c.heardOf('enr_3')]);
        expect(a.heard).to.deep.equal(['enr_1', 'enr_3']);
        expect(c.heard).to.deep.equal(['enr_1', 'enr_3']);
        expect(stranger.heard).to.deep.equal(['enr_2']);
        for (const unsubscribe of leave) await unsubscribe();
      });

      it('stops bringing notices to a listener that left; the instance stops listening when its last listener leaves, and listens again for a new one', async () => {
        const [here] = s.notifiers;
        const user = newUser();
        const [a, b, c] = [listener(), listener(), listener()];
        const leaveA = await here.subscribe(user, a.hear);
        const leaveB = await here.subscribe(user, b.hear);
        await leaveA();
        await leaveA(); // twice is once
        expect(await here.publish(user, 'enr_1')).to.equal(1);
        await b.heardOf('enr_1');
        expect(a.heard).to.deep.equal([]);

        await leaveB();
        expect(await here.publish(user, 'enr_2')).to.equal(0);

        const leaveC = await here.subscribe(user, c.hear);
        expect(await here.publish(user, 'enr_3')).to.equal(1);
        await c.heardOf('enr_3');
        expect(c.heard).to.deep.equal(['enr_3']);
        await leaveC();
        expect(b.heard).to.deep.equal(['enr_1']);
      });

      it('keeps one subscription per user however listeners come and go at once', async () => {
        const [here] = s.notifiers;
        const user = newUser();
        // Subscribing and leaving concurrently must end with the listeners that stayed still hearing.
        const churn = await Promise.all(Array.from({ length: 10 }, () => here.subscribe(user, () => {})));
        const stay = listener();
        const [, leaveStay] = await Promise.all([Promise.all(churn.map((leave) => leave())), here.subscribe(user, stay.hear)]);
        expect(await here.publish(user, 'enr_1')).to.equal(1);
        await stay.heardOf('enr_1');
        await leaveStay();
        expect(await here.publish(user, 'enr_2')).to.equal(0);
      });
    });
  });
}
