import { expect } from 'chai';
import type { SecurityEventRecord } from '../../src/domain/security-events.js';
import { newUser, type StoreFixture } from './contract-support.js';

let counter = 0;
/** A security event of `user` that occurred `ms` after 2026-01-01 (or at `at`). */
export function securityEvent(user: string, ms = 0, overrides: Partial<SecurityEventRecord> = {}): SecurityEventRecord {
  counter += 1;
  return {
    eventId: `evt_${process.pid}_${Date.now()}_${counter}`,
    userId: user,
    type: 'SESSIONS_REVOKED',
    occurredAt: new Date(Date.UTC(2026, 0, 1) + ms),
    caller: 'login-service',
    requestId: `req-${counter}`,
    ...overrides,
  };
}

/** The SecurityEventLog rules every adapter shares. The log is one for all users: positions are compared relative to its head. */
export function securityEventLogContract(fixture: () => StoreFixture): void {
  describe('SecurityEventLog (MongoDB)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });

    it('appends at the next positions, without gaps, in the order given, and reads them back by position', async () => {
      const user = newUser();
      const head = await s.securityEvents.head();
      const events = [securityEvent(user, 1), securityEvent(user, 2, { type: 'DEVICE_FORGOTTEN', deviceId: 'dev_1' }), securityEvent(user, 3)];
      await s.securityEvents.append(events);
      expect(await s.securityEvents.head()).to.equal(head + 3);
      const read = await s.securityEvents.read(head, head + 3, 10, null);
      expect(read).to.deep.equal(events.map((e, i) => ({ ...e, position: head + 1 + i })));
      expect(await s.securityEvents.read(head, head + 3, 10, ['DEVICE_FORGOTTEN'])).to.deep.equal([{ ...events[1], position: head + 2 }]);
      expect(await s.securityEvents.read(head, head + 3, 2, null)).to.have.length(2);
      expect(await s.securityEvents.read(head + 1, head + 2, 10, null)).to.deep.equal([{ ...events[1], position: head + 2 }]);
    });

    it('keeps each event id once: appending it again (a second relay, a relay that died before clearing the outbox) adds nothing', async () => {
      const user = newUser();
      const [a, b] = [securityEvent(user), securityEvent(user)];
      const head = await s.securityEvents.head();
      await s.securityEvents.append([a!]);
      await s.securityEvents.append([a!, b!]);
      await s.securityEvents.append([b!, a!]);
      const read = await s.securityEvents.read(head, await s.securityEvents.head(), 100, null);
      expect(read.filter((e) => e.userId === user).map((e) => e.eventId)).to.deep.equal([a!.eventId, b!.eventId]);
    });

    it('hands out every position once when several appends run at once, each append in its own order', async () => {
      const users = Array.from({ length: 6 }, () => newUser());
      const batches = users.map((user) => Array.from({ length: 5 }, (_, i) => securityEvent(user, i)));
      const head = await s.securityEvents.head();
      // Each batch also races with another append of the same events (two instances relaying one outbox).
      await Promise.all([...batches, ...batches].map((batch) => s.securityEvents.append(batch)));
      const newHead = await s.securityEvents.head();
      const read = (await s.securityEvents.read(head, newHead, 1000, null)).filter((e) => users.includes(e.userId));
      expect(read).to.have.length(30);
      expect(new Set(read.map((e) => e.position)).size).to.equal(30);
      for (const batch of batches) {
        expect(read.filter((e) => e.userId === batch[0]!.userId).map((e) => e.eventId)).to.deep.equal(batch.map((e) => e.eventId));
      }
    });

    it('lists a user\'s trail newest first, page by page after a cursor, ties broken by id', async () => {
      const user = newUser();
      const events = [
        securityEvent(user, 1000, { eventId: `evt_a_${user}` }),
        securityEvent(user, 3000, { eventId: `evt_b_${user}` }),
        securityEvent(user, 2000, { eventId: `evt_c_${user}` }),
        securityEvent(user, 2000, { eventId: `evt_d_${user}` }),
      ];
      await s.securityEvents.append(events);
      await s.securityEvents.append([securityEvent(newUser(), 5000)]);
      const first = await s.securityEvents.list(user, 2, null);
      expect(first.map((e) => e.eventId)).to.deep.equal([`evt_b_${user}`, `evt_d_${user}`]);
      expect(first[0]).to.deep.include(events[1]);
      const last = first[1]!;
      const second = await s.securityEvents.list(user, 2, { occurredAt: last.occurredAt, eventId: last.eventId });
      expect(second.map((e) => e.eventId)).to.deep.equal([`evt_c_${user}`, `evt_a_${user}`]);
      expect(await s.securityEvents.list(user, 2, { occurredAt: second[1]!.occurredAt, eventId: second[1]!.eventId })).to.deep.equal([]);
    });

    it('removes what is past retention but never the newest event, so positions never start again', async () => {
      const user = newUser();
      const old = [securityEvent(user, -10 * 365 * 86_400_000), securityEvent(user, -10 * 365 * 86_400_000 + 1)];
      await s.securityEvents.append(old);
      const recent = securityEvent(user, 0, { occurredAt: new Date() });
      await s.securityEvents.append([recent]);
      const head = await s.securityEvents.head();
      expect(await s.securityEvents.removeBefore(new Date(Date.UTC(2020, 0, 1)))).to.be.at.least(2);
      expect((await s.securityEvents.list(user, 10, null)).map((e) => e.eventId)).to.deep.equal([recent.eventId]);
      expect(await s.securityEvents.head()).to.equal(head);
      expect(await s.securityEvents.oldest()).to.be.a('number').and.to.be.at.most(head);
      // The newest stays even when it is past retention too.
      await s.securityEvents.removeBefore(new Date(Date.now() + 60_000));
      expect(await s.securityEvents.head()).to.equal(head);
      expect(await s.securityEvents.oldest()).to.equal(head);
    });
  });
}
