import { expect } from 'chai';
import { storeUnavailable } from '../../src/domain/store-unavailable-error.js';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

/** Security events on the in-memory stores: ListAuditEvents racing the relay, and writes that commit late. */
describe('Security events racing the relay (in-memory stores)', () => {
  describe('ListAuditEvents while the relay moves the event', () => {
    it('lists a change made before the call, whichever of its two reads runs first', async () => {
      const h = serviceHarness();
      await h.enroll('ann'); // MFA_ENABLED waits in ann's outbox (the relay is not started yet)
      // The worst interleaving for two reads: the event is moved by the relay between them.
      const { securityEvents, factors } = h.stores;
      const list = securityEvents.list.bind(securityEvents);
      const outbox = factors.outbox.bind(factors);
      let releaseOutboxRead: () => void = () => {};
      const outboxReadMayGo = new Promise<void>((resolve) => (releaseOutboxRead = resolve));
      let gateNextOutboxRead = true;
      securityEvents.list = async (...args) => list(...args); // snapshot taken at once, as a query would
      factors.outbox = async (userId) => {
        if (gateNextOutboxRead) {
          gateNextOutboxRead = false;
          await outboxReadMayGo;
        }
        return outbox(userId);
      };
      const page = h.services.audit.list('ann', 0, '');
      await new Promise((resolve) => setImmediate(resolve));
      h.services.relay.start();
      await h.services.relay.drain(); // appended to the log, taken out of the outbox
      releaseOutboxRead();
      const { events } = await page;
      await h.services.relay.stop();
      expect(events.map((e) => ('type' in e ? e.type : e.event))).to.deep.equal(['MFA_ENABLED']);
    });
  });

  describe('a write whose answer timed out but that committed a moment later', () => {
    it('has its event relayed within 2 s of the commit, not only by the next sweep', async () => {
      const h = serviceHarness();
      await h.enroll('bo');
      h.services.relay.start(); // as at instance start: the start sweep runs now, the next in MFA_EVENT_SWEEP_SECONDS (5)
      await h.services.relay.drain();
      const { factors } = h.stores;
      const raise = factors.raiseSessionsRevokedAt.bind(factors);
      let landed: Promise<void> = Promise.resolve();
      // The call gives up (STORE_UNAVAILABLE); the server applies the write 50 ms later.
      factors.raiseSessionsRevokedAt = async (...args) => {
        landed = new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => raise(...args));
        throw storeUnavailable('test store', new Error('timed out; the write is still under way'));
      };
      expect(await reasonOf(h.services.sessions.revoke('bo'))).to.equal('STORE_UNAVAILABLE');
      await landed;
      expect((await factors.outbox('bo')).map((e) => e.type)).to.deep.equal(['SESSIONS_REVOKED']);
      // 2 s pass (on the injected clock too, so a sweep would take the entry).
      await new Promise((resolve) => setTimeout(resolve, 2000));
      h.clock.advance(2000);
      const head = await h.stores.securityEvents.head();
      const logged = (await h.stores.securityEvents.read(0, head, 100, null)).filter((e) => e.userId === 'bo').map((e) => e.type);
      await h.services.relay.stop();
      expect(logged, 'bo\'s events in the log 2 s after the write committed').to.deep.equal(['MFA_ENABLED', 'SESSIONS_REVOKED']);
    });
  });

  describe('a sweep that keeps failing (on FerretDB, a scan of many users past the store timeout)', () => {
    it('never holds back the events their writers relay', async () => {
      const h = serviceHarness();
      const { factors } = h.stores;
      let sweeps = 0;
      factors.outboxes = async () => {
        sweeps += 1;
        throw storeUnavailable('test store', new Error('the scan took too long'));
      };
      h.services.relay.start();
      await h.enroll('cal');
      await h.services.sessions.revoke('cal');
      await h.services.relay.drain();
      const head = await h.stores.securityEvents.head();
      const logged = (await h.stores.securityEvents.read(0, head, 100, null)).filter((e) => e.userId === 'cal').map((e) => e.type);
      await h.services.relay.stop();
      expect(sweeps, 'sweeps tried').to.be.at.least(1);
      expect(logged).to.deep.equal(['MFA_ENABLED', 'SESSIONS_REVOKED']);
    });
  });
});
