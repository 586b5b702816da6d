import { expect } from 'chai';
import type { WatchEnd, WatchEvent } from '../../src/services/enrollment/enrollment-watch-service.js';
import type { BegunEnrollment } from '../../src/services/enrollment/enrollment-service.js';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

const TTL_MS = 60_000;

/** A watch run on the harness: its events as they come, how it ended, and a way to stop it like a client that goes. */
function startWatch(h: ReturnType<typeof serviceHarness>, userId: string, options: { maxRefreshes?: number; adding?: boolean; reading?: boolean } = {}) {
  const events: WatchEvent[] = [];
  const stop = new AbortController();
  let wake = () => {};
  let taken = 0;
  // Like the gRPC writer: resolves once "sent"; a client that does not read never takes it, until the stream ends.
  const send = async (event: WatchEvent) => {
    if (options.reading === false) {
      await new Promise((_, reject) => stop.signal.addEventListener('abort', () => reject(new Error('stream ended')), { once: true }));
    }
    events.push(event);
    wake();
  };
  const request = { userId, accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: options.adding ?? false, maxRefreshes: options.maxRefreshes ?? 10 };
  const done: Promise<WatchEnd> = h.services.watch.watch(request, send, stop.signal);
  const settled = done.then(
    () => undefined,
    () => undefined,
  );
  return {
    events,
    done,
    stop: () => stop.abort(),
    /** The next event; fails when the watch ends first. */
    next: async (): Promise<WatchEvent> => {
      while (taken >= events.length) {
        const ended = await Promise.race([new Promise<false>((resolve) => (wake = () => resolve(false))), settled.then(() => true)]);
        if (ended && taken >= events.length) throw new Error(`the watch ended after ${events.length} event(s): ${await reasonOf(done)}`);
      }
      return events[taken++]!;
    },
  };
}

const enrollmentOf = (event: WatchEvent): BegunEnrollment => {
  if (event.kind !== 'enrollment') throw new Error(`expected an enrollment, got ${event.kind}`);
  return event.enrollment;
};

/** Resolves after the next call of `object[method]` has finished (the watch's check has read the stores). */
function nextCall<T extends object>(object: T, method: keyof T & string): Promise<void> {
  const original = object[method] as (...args: unknown[]) => Promise<unknown>;
  return new Promise((resolve) => {
    (object as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      (object as Record<string, unknown>)[method] = original;
      try {
        return await original.apply(object, args);
      } finally {
        setImmediate(resolve);
      }
    };
  });
}

describe('EnrollmentWatchService (in-memory stores, fake clock)', () => {
  it('sends an enrollment at once, a fresh one each time the current expires unconfirmed, and expired after maxRefreshes', async () => {
    const h = serviceHarness();
    const watch = startWatch(h, 'ada', { maxRefreshes: 2 });
    const seen: BegunEnrollment[] = [enrollmentOf(await watch.next())];
    for (let i = 0; i < 2; i += 1) {
      h.clock.advance(TTL_MS);
      const fresh = enrollmentOf(await watch.next());
      // It replaced the pending one, as a new Begin does.
      expect((await h.stores.pending.get('ada'))!.enrollmentId).to.equal(fresh.enrollmentId);
      seen.push(fresh);
    }
    h.clock.advance(TTL_MS);
    expect(await watch.next()).to.deep.equal({ kind: 'expired' });
    expect(await watch.done).to.equal('expired');
    expect(new Set(seen.map((e) => e.enrollmentId)).size).to.equal(3);
    expect(new Set(seen.map((e) => e.secret)).size).to.equal(3);
    expect(await h.stores.pending.get('ada')).to.equal(null);
    expect(await h.stores.confirmations.publish('ada', 'enr_x')).to.equal(0);
  });

  it('sends confirmed, with the authenticator and enabled_at, as soon as the current enrollment is confirmed', async () => {
    const h = serviceHarness();
    const watch = startWatch(h, 'bob');
    const first = enrollmentOf(await watch.next());
    h.clock.advance(TTL_MS);
    const current = enrollmentOf(await watch.next());
    const confirmed = await h.services.confirmation.confirm({ userId: 'bob', enrollmentId: current.enrollmentId, code: h.code(current.secret), existingCode: '' });
    expect(await watch.next()).to.deep.equal({ kind: 'confirmed', authenticatorId: current.authenticatorId, enabledAt: confirmed.enabledAt });
    expect(await watch.done).to.equal('confirmed');
    expect(current.authenticatorId).to.not.equal(first.authenticatorId);
  });

  it('sends confirmed for an added authenticator, with the enabled_at of the first', async () => {
    const h = serviceHarness();
    const enrolled = await h.enroll('cyd');
    const watch = startWatch(h, 'cyd', { adding: true });
    const begun = enrollmentOf(await watch.next());
    await h.services.confirmation.confirm({ userId: 'cyd', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: h.code(enrolled.secret) });
    expect(await watch.next()).to.deep.equal({ kind: 'confirmed', authenticatorId: begun.authenticatorId, enabledAt: enrolled.enabledAt });
  });

  it('learns of a confirmation whose notice was lost at its next check, the expiry, and sends confirmed rather than a refresh', async () => {
    const h = serviceHarness();
    const watch = startWatch(h, 'ivy');
    const begun = enrollmentOf(await watch.next());
    const publish = h.stores.confirmations.publish;
    h.stores.confirmations.publish = async () => Promise.reject(new Error('Redis went away'));
    // Best effort: the Confirm succeeds all the same.
    const confirmed = await h.services.confirmation.confirm({ userId: 'ivy', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: '' });
    h.stores.confirmations.publish = publish;
    expect(watch.events).to.have.length(1);
    h.clock.advance(TTL_MS);
    expect(await watch.next()).to.deep.equal({ kind: 'confirmed', authenticatorId: begun.authenticatorId, enabledAt: confirmed.enabledAt });
  });

  for (const adding of [false, true]) {
    context(`when a Confirm is recorded but not yet durable as the enrollment expires (${adding ? 'an added authenticator' : 'the first one'})`, () => {
      async function recordedNotDurable() {
        const h = serviceHarness();
        const enrolled = adding ? await h.enroll('dee') : null;
        const watch = startWatch(h, 'dee', { adding });
        const begun = enrollmentOf(await watch.next());
        h.clock.advance(TTL_MS / 2);
        const confirm = () =>
          h.services.confirmation.confirm({ userId: 'dee', enrollmentId: begun.enrollmentId, code: h.code(begun.secret), existingCode: enrolled ? h.code(enrolled.secret, 1) : '' });
        // Recorded in the pending enrollment (kept one more TTL for retries), then the durable write fails.
        h.faults.factors(adding ? 'spendProof' : 'enable', 'before');
        expect(await reasonOf(confirm())).to.equal('STORE_UNAVAILABLE');
        return { h, watch, begun, confirm };
      }

      it('waits for that Confirm instead of refreshing, and sends confirmed once its retry goes through', async () => {
        const { h, watch, begun, confirm } = await recordedNotDurable();
        const checked = nextCall(h.stores.factors, 'get');
        h.clock.advance(TTL_MS / 2 + 1000);
        await checked;
        expect((await h.stores.pending.get('dee'))!.enrollmentId).to.equal(begun.enrollmentId);
        await confirm();
        expect(await watch.next()).to.deep.equal({ kind: 'confirmed', authenticatorId: begun.authenticatorId, enabledAt: (await h.stores.factors.get('dee'))!.enabledAt });
        expect(watch.events).to.have.length(2);
      });

      it('keeps waiting when its check missed the confirmation and the refresh runs into it', async () => {
        const { h, watch, begun, confirm } = await recordedNotDurable();
        // The check reads the enrollment as gone (as a read just before a Confirm would), so the watch tries to refresh.
        const pending = h.stores.pending;
        const get = pending.get.bind(pending);
        let stale = true;
        pending.get = async (userId: string) => (stale ? ((stale = false), null) : get(userId));
        const refused = nextCall(h.stores.factors, 'get');
        h.clock.advance(TTL_MS / 2 + 1000);
        await refused;
        expect((await get('dee'))!.enrollmentId).to.equal(begun.enrollmentId);
        // A first enrollment's recorded Confirm is finished by the refresh's Begin itself; an added one waits for its retry.
        if (adding) await confirm();
        expect((await watch.next()).kind).to.equal('confirmed');
        expect(watch.events).to.have.length(2);
      });
    });
  }

  it('stops at once when its signal aborts, listens no more, and leaves the last enrollment to expire', async () => {
    const h = serviceHarness();
    const watch = startWatch(h, 'eve');
    const begun = enrollmentOf(await watch.next());
    watch.stop();
    expect(await watch.done).to.equal('ended');
    expect((await h.stores.pending.get('eve'))!.enrollmentId).to.equal(begun.enrollmentId);
    expect(await h.stores.confirmations.publish('eve', begun.enrollmentId)).to.equal(0);
    h.clock.advance(TTL_MS * 3);
    expect(await h.stores.pending.get('eve')).to.equal(null);
    expect(watch.events).to.have.length(1);
  });

  it('makes no new enrollment while the previous one has not been taken by the client', async () => {
    const h = serviceHarness();
    const watch = startWatch(h, 'fay', { reading: false });
    let begun = 0;
    const put = h.stores.pending.put.bind(h.stores.pending);
    h.stores.pending.put = async (...args) => ((begun += 1), put(...args));
    for (let i = 0; i < 3; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      h.clock.advance(TTL_MS);
    }
    expect(begun).to.equal(1);
    expect(await h.stores.pending.get('fay')).to.equal(null);
    watch.stop();
    expect(await reasonOf(watch.done)).to.contain('stream ended');
    expect(await h.stores.confirmations.publish('fay', 'enr_x')).to.equal(0);
  });

  it("fails with Begin's error, before any event, when Begin refuses", async () => {
    const h = serviceHarness();
    await h.enroll('gus');
    const watch = startWatch(h, 'gus');
    expect(await reasonOf(watch.done)).to.equal('MFA_ALREADY_ENABLED');
    expect(watch.events).to.deep.equal([]);
    expect(await h.stores.confirmations.publish('gus', 'enr_x')).to.equal(0);
  });

  it('fails STORE_UNAVAILABLE when a store fails at a check, and listens no more', async () => {
    const h = serviceHarness();
    const watch = startWatch(h, 'hal');
    await watch.next();
    h.faults.pending('get', 'before');
    h.clock.advance(TTL_MS);
    expect(await reasonOf(watch.done)).to.equal('STORE_UNAVAILABLE');
    expect(await h.stores.confirmations.publish('hal', 'enr_x')).to.equal(0);
  });
});
