import { expect } from 'chai';
import type { SecurityEventMessage } from '../../src/services/security-events/security-event-watch-service.js';
import { encodeEventCursor } from '../../src/services/security-events/event-cursor.js';
import { reasonOf, serviceHarness } from '../support/service-harness.js';

const noDevice = { rememberDevice: false, deviceLabel: '' };

/** The types of the user's events in the log, oldest first, after the relay has moved every outbox. */
async function loggedTypes(h: ReturnType<typeof serviceHarness>, userId: string): Promise<string[]> {
  await h.services.relay.drain();
  const head = await h.stores.securityEvents.head();
  return (await h.stores.securityEvents.read(0, head, 1000, null)).filter((e) => e.userId === userId).map((e) => e.type);
}

describe('Security events (in-memory stores, fake clock)', () => {
  let h: ReturnType<typeof serviceHarness>;
  beforeEach(() => {
    h = serviceHarness();
    h.services.relay.start();
  });
  afterEach(() => h.services.relay.stop());

  it('writes each change\'s event into the user\'s outbox with the change, and the relay moves it to the log', async () => {
    const stopped = serviceHarness();
    await stopped.enroll('ada');
    expect((await stopped.stores.factors.outbox('ada')).map((e) => e.type)).to.deep.equal(['MFA_ENABLED']);
    // Started later (an instance that starts after another one died): the sweep finds it.
    stopped.services.relay.start();
    expect(await loggedTypes(stopped, 'ada')).to.deep.equal(['MFA_ENABLED']);
    expect(await stopped.stores.factors.outbox('ada')).to.deep.equal([]);
    await stopped.services.relay.stop();
  });

  it('records a recovery code\'s use with the exact number left, also when two are used at once', async () => {
    const { recoveryCodes } = await h.enroll('bea');
    await Promise.all(
      recoveryCodes.slice(0, 2).map((recoveryCode) => h.services.verification.verifyRecoveryCode({ userId: 'bea', recoveryCode, ...noDevice })),
    );
    await h.services.relay.drain();
    const used = (await h.stores.securityEvents.read(0, await h.stores.securityEvents.head(), 100, ['RECOVERY_CODE_USED'])).filter((e) => e.userId === 'bea');
    expect(used.map((e) => e.recoveryCodesRemaining)).to.deep.equal([9, 8]);
  });

  it('records no event for a write that failed before it applied, and one for a write that applied though its answer was lost', async () => {
    await h.enroll('cy');
    h.faults.factors('raiseSessionsRevokedAt', 'before');
    expect(await reasonOf(h.services.sessions.revoke('cy'))).to.equal('STORE_UNAVAILABLE');
    h.faults.factors('raiseSessionsRevokedAt', 'after');
    expect(await reasonOf(h.services.sessions.revoke('cy'))).to.equal('STORE_UNAVAILABLE');
    expect(await loggedTypes(h, 'cy')).to.deep.equal(['MFA_ENABLED', 'SESSIONS_REVOKED']);
  });

  it('records one LOCKED_OUT per lockout however many wrong codes come, and nothing for the failures before it', async () => {
    await h.enroll('dee');
    for (let i = 0; i < 40; i += 1) {
      await reasonOf(h.services.verification.verifyTotp({ userId: 'dee', code: '000000', ...noDevice }));
    }
    await h.services.relay.drain();
    const locked = (await h.stores.securityEvents.read(0, await h.stores.securityEvents.head(), 100, ['LOCKED_OUT'])).filter((e) => e.userId === 'dee');
    expect(locked.map((e) => e.failedAttempts)).to.deep.equal([5]);
    expect(await loggedTypes(h, 'dee')).to.deep.equal(['MFA_ENABLED', 'LOCKED_OUT']);
  });

  describe('the stream', () => {
    /** Runs a watch from `start` until `count` messages came, then ends it. */
    async function watchFor(start: number, count: number, types: Parameters<typeof h.services.securityEvents.watch>[1] = null) {
      const messages: SecurityEventMessage[] = [];
      const ended = new AbortController();
      let reached: () => void = () => {};
      const enough = new Promise<void>((resolve) => (reached = resolve));
      const running = h.services.securityEvents
        .watch(start, types, {
          signal: ended.signal,
          send: async (message) => {
            messages.push(message);
            if (messages.length === count) reached();
          },
        })
        .catch((error: unknown) => error);
      await enough;
      ended.abort();
      expect(await reasonOf(running.then((e) => Promise.reject(e)))).to.equal('CALL_ENDED');
      return messages;
    }

    it('starts with a heartbeat at the cursor asked for, then sends what follows it, of the asked types', async () => {
      await h.enroll('eve');
      await h.services.sessions.revoke('eve');
      await h.services.relay.drain();
      const start = await h.services.securityEvents.startPosition('earliest');
      const all = await watchFor(start, 3);
      expect(all[0]).to.deep.equal({ heartbeat: { cursor: encodeEventCursor(start) } });
      expect(all.slice(1).map((m) => 'event' in m && m.event.type)).to.deep.equal(['MFA_ENABLED', 'SESSIONS_REVOKED']);
      const afterFirst = 'event' in all[1]! ? all[1].event.cursor : '';
      const rest = await watchFor(await h.services.securityEvents.startPosition(afterFirst), 2);
      expect(rest.slice(1).map((m) => 'event' in m && m.event.type)).to.deep.equal(['SESSIONS_REVOKED']);
      const filtered = await watchFor(start, 2, ['SESSIONS_REVOKED']);
      expect(filtered.slice(1).map((m) => 'event' in m && m.event.type)).to.deep.equal(['SESSIONS_REVOKED']);
    });

    it('refuses a cursor that is not one, or ahead of the log, naming after_cursor; and one past retention with CURSOR_EXPIRED', async () => {
      expect(await reasonOf(h.services.securityEvents.startPosition('not-a-cursor'))).to.equal('INVALID_REQUEST');
      expect(await reasonOf(h.services.securityEvents.startPosition(encodeEventCursor(5)))).to.equal('INVALID_REQUEST');
      await h.enroll('fay');
      await h.services.sessions.revoke('fay');
      await h.services.sessions.revoke('fay');
      await h.services.relay.drain();
      await h.stores.securityEvents.removeBefore(new Date(h.clock.now().getTime() + 1));
      expect(await reasonOf(h.services.securityEvents.startPosition(encodeEventCursor(0)))).to.equal('CURSOR_EXPIRED');
      expect(await reasonOf(h.services.securityEvents.startPosition(encodeEventCursor(2)))).to.equal('OK');
      expect(await reasonOf(h.services.securityEvents.startPosition('earliest'))).to.equal('OK');
    });
  });
});
