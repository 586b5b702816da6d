import { expect } from 'chai';
import type { AuditEventRecord } from '../../src/stores/ports.js';
import { newUser, type StoreFixture } from './contract-support.js';

/** The AuditLog rules every adapter shares. */
export function auditLogContract(fixture: () => StoreFixture): void {
  describe('audit trail (MongoDB)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });

    describe('AuditLog', () => {
      const event = (user: string, id: string, ms: number): AuditEventRecord => ({
        eventId: id,
        occurredAt: new Date(Date.UTC(2026, 0, 1) + ms),
        userId: user,
        event: 'test.event',
        outcome: 'success',
        caller: 'login-service',
        requestId: `req-${id}`,
        detail: `detail ${id}`,
      });

      it('lists a user\'s events newest first, page by page after a cursor, ties broken by id', async () => {
        const user = newUser();
        const events = [event(user, 'evt_a', 1000), event(user, 'evt_b', 3000), event(user, 'evt_c', 2000), event(user, 'evt_d', 2000)];
        for (const e of events) await s.auditLog.record(e);
        await s.auditLog.record(event(newUser(), 'evt_other', 5000));

        const first = await s.auditLog.list(user, 2, null);
        expect(first.map((e) => e.eventId)).to.deep.equal(['evt_b', 'evt_d']);
        expect(first[0]).to.deep.equal(events[1]);
        const last = first[1]!;
        const second = await s.auditLog.list(user, 2, { occurredAt: last.occurredAt, eventId: last.eventId });
        expect(second.map((e) => e.eventId)).to.deep.equal(['evt_c', 'evt_a']);
        expect(await s.auditLog.list(user, 2, { occurredAt: second[1]!.occurredAt, eventId: 'evt_a' })).to.deep.equal([]);
      });
    });

  });
}
