import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { codeAt, enrollUser, newUserId, useRealStores, useService } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { outcomeOf, type MfaClient } from '../support/grpc-client.js';
import type { OffsetClock } from '../support/fake-clock.js';
import { AUTH_ENV, TOKENS, as, failureOf, follow, openingCursor } from '../support/security-event-callers.js';
import { callMetadata, describeEvent, loggedEvents, outboxEntries, takeEvents, typeName, watchSecurityEvents } from '../support/security-event-stream.js';
import { startTestService } from '../support/test-service.js';
import { SecurityEventType, type SecurityEvent } from '../../src/gen/mfa/v1/mfa.js';

/** A 6-digit code that is none of the secret's codes near now: a wrong code that passes validation. */
function wrongCode(secret: string, clock: OffsetClock): string {
  const near = new Set([-2, -1, 0, 1, 2].map((steps) => codeAt(secret, clock, steps)));
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** A recovery code of the right form that is not one of `codes` (one character changed). */
function wrongRecoveryCode(codes: readonly string[]): string {
  const [first] = codes;
  const changed = `${first![0] === 'Z' ? 'Y' : 'Z'}${first!.slice(1)}`;
  expect(codes).to.not.include(changed);
  return changed;
}

/** Enrolls a user on `client` (as `app`), without moving the clock: each user has its own secret. */
const enroll = (client: MfaClient, clock: OffsetClock, userId: string) => enrollUser(client, clock, userId, { metadata: as('app'), advanceClock: false });

/** What a test compares of an event: everything but its id, cursor and time. */
function summary(event: SecurityEvent) {
  return {
    userId: event.userId,
    type: typeName(event),
    caller: event.caller,
    requestId: event.requestId,
    authenticatorId: event.authenticatorId,
    deviceId: event.deviceId,
    recoveryCodesRemaining: event.recoveryCodesRemaining,
    failedAttempts: event.failedAttempts,
    reason: event.reason,
  };
}
type Summary = ReturnType<typeof summary>;

/**
 * The events in order, except that the events of one call (one write: their
 * order within it is not part of the contract) are sorted by type.
 */
function inCallOrder(events: readonly Summary[]): Summary[] {
  const runs: Summary[][] = [];
  for (const event of events) {
    const last = runs.at(-1);
    if (last !== undefined && last[0]!.requestId === event.requestId) last.push(event);
    else runs.push([event]);
  }
  return runs.flatMap((run) => run.sort((x, y) => x.type.localeCompare(y.type)));
}

describe('WatchSecurityEvents (gRPC, real Redis and MongoDB-compatible store)', function () {
  this.timeout(60_000);
  const stores = useRealStores();

  describe('on one instance with callers, an event caller and an admin', () => {
    const svc = useService(stores, AUTH_ENV);

    it('sends each event type, made by its RPC, with its caller, request id and details; ListAuditEvents returns the same events', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId('typed');
      const rid = (step: string) => `${userId}.${step}`;
      const app = (step: string) => as('app', rid(step));
      const watch = follow(svc.current.service.port);
      await openingCursor(watch);
      const expected: Array<Partial<Summary> & { step: string; type: string }> = [];
      const secrets: string[] = [...Object.values(TOKENS)];

      // MFA_ENABLED: the first authenticator confirmed.
      const first = await client.beginTotpEnrollment({ userId }, app('begin'));
      const enabled = await client.confirmTotpEnrollment({ userId, enrollmentId: first.enrollmentId, code: codeAt(first.secret, clock) }, app('enable'));
      let codes = enabled.recoveryCodes;
      secrets.push(first.secret, ...codes);
      expected.push({ step: 'enable', type: 'MFA_ENABLED', authenticatorId: first.authenticatorId });

      // AUTHENTICATOR_ADDED, proven with a recovery code: RECOVERY_CODE_USED in the same write.
      clock.advance(30_000);
      const second = await client.beginTotpEnrollment({ userId, addAuthenticator: true, authenticatorLabel: 'Backup' }, app('begin-add'));
      secrets.push(second.secret);
      await client.confirmTotpEnrollment(
        { userId, enrollmentId: second.enrollmentId, code: codeAt(second.secret, clock), existingCode: codes[0] },
        app('add'),
      );
      expected.push({ step: 'add', type: 'AUTHENTICATOR_ADDED', authenticatorId: second.authenticatorId });
      expected.push({ step: 'add', type: 'RECOVERY_CODE_USED', recoveryCodesRemaining: 9 });

      await client.renameAuthenticator({ userId, authenticatorId: first.authenticatorId, label: 'Work phone' }, app('rename'));
      expected.push({ step: 'rename', type: 'AUTHENTICATOR_RENAMED', authenticatorId: first.authenticatorId });

      expect((await client.verifyRecoveryCode({ userId, recoveryCode: codes[1] }, app('recovery'))).recoveryCodesRemaining).to.equal(8);
      expected.push({ step: 'recovery', type: 'RECOVERY_CODE_USED', recoveryCodesRemaining: 8 });

      clock.advance(30_000);
      const laptop = await client.verifyTotp({ userId, code: codeAt(first.secret, clock), rememberDevice: true, deviceLabel: 'Laptop' }, app('remember-totp'));
      const laptopId = (await client.checkRememberedDevice({ userId, deviceToken: laptop.deviceToken }, as('app'))).deviceId;
      secrets.push(laptop.deviceToken);
      expected.push({ step: 'remember-totp', type: 'DEVICE_REMEMBERED', deviceId: laptopId });

      const tablet = await client.verifyRecoveryCode({ userId, recoveryCode: codes[2], rememberDevice: true, deviceLabel: 'Tablet' }, app('remember-recovery'));
      const tabletId = (await client.checkRememberedDevice({ userId, deviceToken: tablet.deviceToken }, as('app'))).deviceId;
      secrets.push(tablet.deviceToken);
      expected.push({ step: 'remember-recovery', type: 'DEVICE_REMEMBERED', deviceId: tabletId });
      expected.push({ step: 'remember-recovery', type: 'RECOVERY_CODE_USED', recoveryCodesRemaining: 7 });

      // A login without remembering changes nothing the user is told about.
      clock.advance(30_000);
      await client.verifyTotp({ userId, code: codeAt(first.secret, clock) }, app('plain-totp'));

      await client.forgetRememberedDevice({ userId, deviceId: laptopId }, app('forget'));
      expected.push({ step: 'forget', type: 'DEVICE_FORGOTTEN', deviceId: laptopId });

      clock.advance(30_000);
      codes = (await client.regenerateRecoveryCodes({ userId, code: codeAt(first.secret, clock) }, app('regenerate'))).recoveryCodes;
      secrets.push(...codes);
      expected.push({ step: 'regenerate', type: 'RECOVERY_CODES_REGENERATED', recoveryCodesRemaining: 10 });

      await client.removeAuthenticator({ userId, authenticatorId: second.authenticatorId, code: codes[0] }, app('remove'));
      expected.push({ step: 'remove', type: 'AUTHENTICATOR_REMOVED', authenticatorId: second.authenticatorId });
      expected.push({ step: 'remove', type: 'RECOVERY_CODE_USED', recoveryCodesRemaining: 9 });

      await client.revokeSessions({ userId }, app('revoke'));
      expected.push({ step: 'revoke', type: 'SESSIONS_REVOKED' });

      clock.advance(30_000);
      await client.disableMfa({ userId, code: codeAt(first.secret, clock) }, app('disable'));
      expected.push({ step: 'disable', type: 'MFA_DISABLED' });

      const again = await client.beginTotpEnrollment({ userId }, app('begin-again'));
      secrets.push(again.secret);
      secrets.push(...(await client.confirmTotpEnrollment({ userId, enrollmentId: again.enrollmentId, code: codeAt(again.secret, clock) }, app('enable-again'))).recoveryCodes);
      expected.push({ step: 'enable-again', type: 'MFA_ENABLED', authenticatorId: again.authenticatorId });

      // The fifth wrong code locks the user: LOCKED_OUT once; a sixth while locked records nothing.
      const wrong = wrongCode(again.secret, clock);
      const outcomes = [];
      for (let i = 1; i <= 6; i += 1) outcomes.push(await outcomeOf(client.verifyTotp({ userId, code: wrong }, app(`wrong-${i}`))));
      expect(outcomes.slice(3)).to.deep.equal(['PERMISSION_DENIED/INVALID_CODE', 'RESOURCE_EXHAUSTED/LOCKED_OUT', 'RESOURCE_EXHAUSTED/LOCKED_OUT']);
      expected.push({ step: 'wrong-5', type: 'LOCKED_OUT', failedAttempts: 5 });

      await client.resetMfa({ userId, reason: 'support-ticket-4711' }, as('ops', rid('reset')));
      expected.push({ step: 'reset', type: 'MFA_RESET', reason: 'support-ticket-4711', caller: 'ops' });

      // Last, so that any event the user should not have had comes before it (commit order per user).
      await client.revokeSessions({ userId }, app('sentinel'));
      expected.push({ step: 'sentinel', type: 'SESSIONS_REVOKED' });

      const events = await takeEvents(watch, (got) => got.some((e) => e.requestId === rid('sentinel')), { keep: (e) => e.userId === userId });
      watch.cancel();
      watch.close();
      const blank = { userId, caller: 'app', authenticatorId: '', deviceId: '', recoveryCodesRemaining: 0, failedAttempts: 0, reason: '' };
      const wanted = expected.map(({ step, ...fields }) => ({ ...blank, ...fields, requestId: rid(step) }));
      expect(inCallOrder(events.map(summary))).to.deep.equal(inCallOrder(wanted));
      expect(new Set(events.map((e) => e.eventId)).size, 'distinct event ids').to.equal(events.length);
      expect(new Set(events.map((e) => e.cursor)).size, 'distinct cursors').to.equal(events.length);
      for (const [i, event] of events.entries()) {
        expect(event.eventId).to.match(/^evt_/);
        if (i > 0) expect(event.occurredAt!.getTime(), `occurred_at of ${describeEvent(event)}`).to.be.at.least(events[i - 1]!.occurredAt!.getTime());
      }

      // ListAuditEvents (admin): the same events, with type and security_event, and no cursor.
      const listed = [];
      let pageToken = '';
      do {
        const page = await client.listAuditEvents({ userId, pageSize: 5, pageToken }, as('ops'));
        listed.push(...page.events);
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      expect(listed.map((e) => e.eventId).sort()).to.deep.equal(events.map((e) => e.eventId).sort());
      const streamed = new Map(events.map((e) => [e.eventId, e]));
      for (const entry of listed) {
        expect(entry.securityEvent, `security_event of ${entry.eventId}`).to.deep.equal({ ...streamed.get(entry.eventId), cursor: '' });
        expect(entry.type).to.equal(entry.securityEvent!.type);
        expect({ caller: entry.caller, requestId: entry.requestId, userId: entry.userId }).to.deep.equal({
          caller: entry.securityEvent!.caller,
          requestId: entry.securityEvent!.requestId,
          userId,
        });
      }

      // Never a secret, a code or a token: on the wire, in ListAuditEvents, in the event log.
      const stored = JSON.stringify(await loggedEvents(stores.mongo, stores.mongoDb, [userId]));
      const wire = JSON.stringify([events, listed]);
      for (const secret of secrets) {
        for (const text of [wire, stored]) expect(text).to.not.include(secret.replace('-', ''));
        for (const text of [wire, stored]) expect(text).to.not.include(secret);
      }
    });

    it('resumes after a disconnect from the k-th event\'s cursor with exactly the rest, and from a heartbeat\'s cursor', async () => {
      const { client } = svc.current;
      const userId = newUserId('resumed');
      const rid = (n: number) => `${userId}.${n}`;
      const first = follow(svc.current.service.port);
      const opening = await openingCursor(first);
      for (let n = 0; n < 6; n += 1) await client.revokeSessions({ userId }, as('app', rid(n)));
      const mine = { keep: (e: SecurityEvent) => e.userId === userId };
      const six = await takeEvents(first, (got) => got.length === 6, mine);
      first.cancel();
      first.close();
      expect(six.map((e) => e.requestId)).to.deep.equal([0, 1, 2, 3, 4, 5].map(rid));

      // One more, after the disconnect: a resumed stream gets it after the ones it missed.
      await client.revokeSessions({ userId }, as('app', rid(6)));
      const resumed = follow(svc.current.service.port, six[2]!.cursor);
      // The opening heartbeat says where the stream starts: right after the cursor given.
      expect(await openingCursor(resumed)).to.equal(six[2]!.cursor);
      const rest = await takeEvents(resumed, (got) => got.some((e) => e.requestId === rid(6)));
      resumed.cancel();
      resumed.close();
      expect(rest.slice(0, 3).map((e) => e.eventId)).to.deep.equal(six.slice(3).map((e) => e.eventId));
      expect(rest.slice(3).map((e) => e.requestId), 'nothing but the rest').to.deep.equal([rid(6)]);

      const fromHeartbeat = follow(svc.current.service.port, opening);
      await openingCursor(fromHeartbeat);
      const all = await takeEvents(fromHeartbeat, (got) => got.some((e) => e.requestId === rid(6)));
      fromHeartbeat.cancel();
      fromHeartbeat.close();
      expect(all.map((e) => e.eventId)).to.deep.equal([...six.map((e) => e.eventId), rest[3]!.eventId]);
    });

    it('replays every retained event from "earliest", in the order of the event log', async () => {
      const { client } = svc.current;
      const userId = newUserId('earliest');
      await client.revokeSessions({ userId }, as('app', `${userId}.last`));
      const last = await eventually(async () => {
        const [doc] = await loggedEvents(stores.mongo, stores.mongoDb, [userId]);
        return doc ?? Promise.reject(new Error('not relayed yet'));
      }, 10_000);
      const log = await stores.mongo.db(stores.mongoDb).collection('mfa_security_events').find({ position: { $lte: last.position } }).sort({ position: 1 }).toArray();
      expect(log.length, 'earlier tests left events').to.be.greaterThan(10);

      const watch = follow(svc.current.service.port, 'earliest');
      await openingCursor(watch);
      const replayed = await takeEvents(watch, (got) => got.some((e) => e.userId === userId));
      watch.cancel();
      watch.close();
      expect(replayed.map((e) => e.eventId)).to.deep.equal(log.map((doc) => doc._id));
    });

    it('sends only the events of `types`, and fails INVALID_ARGUMENT naming after_cursor for a cursor it never made, and types for UNSPECIFIED', async () => {
      const { client, clock } = svc.current;
      const userId = newUserId('filtered');
      const watch = follow(svc.current.service.port, '', [SecurityEventType.SECURITY_EVENT_TYPE_SESSIONS_REVOKED, SecurityEventType.SECURITY_EVENT_TYPE_MFA_DISABLED]);
      await openingCursor(watch);
      const user = await enroll(client, clock, userId);
      await client.revokeSessions({ userId }, as('app', `${userId}.revoke-1`));
      await client.renameAuthenticator({ userId, authenticatorId: user.authenticatorId, label: 'Renamed' }, as('app', `${userId}.rename`));
      await client.revokeSessions({ userId }, as('app', `${userId}.revoke-2`));
      const events = await takeEvents(watch, (got) => got.some((e) => e.requestId === `${userId}.revoke-2`));
      watch.cancel();
      watch.close();
      // Per-user order: had MFA_ENABLED or AUTHENTICATOR_RENAMED been sent, it would have come before revoke-2.
      expect(events.map((e) => `${typeName(e)} ${e.requestId}`)).to.deep.equal([`SESSIONS_REVOKED ${userId}.revoke-1`, `SESSIONS_REVOKED ${userId}.revoke-2`]);

      for (const afterCursor of ['garbage', 'not a cursor!', 'c2V2MTp4', `${events[0]!.cursor}x`]) {
        const bad = follow(svc.current.service.port, afterCursor);
        const failure = failureOf(await bad.ended);
        expect({ code: status[failure.code], reason: failure.reason, badFields: failure.badFields }, afterCursor).to.deep.equal({
          code: 'INVALID_ARGUMENT',
          reason: 'INVALID_REQUEST',
          badFields: ['after_cursor'],
        });
        expect(bad.messages).to.deep.equal([]);
        bad.close();
      }
      const unspecified = follow(svc.current.service.port, '', [SecurityEventType.SECURITY_EVENT_TYPE_UNSPECIFIED]);
      expect(failureOf(await unspecified.ended)).to.deep.include({ code: status.INVALID_ARGUMENT, reason: 'INVALID_REQUEST', badFields: ['types'] });
      unspecified.close();
    });

    it('adds one LOCKED_OUT event, however many of 500 wrong codes (TOTP, recovery, DisableMfa) are tried at once', async () => {
      const { client, clock } = svc.current;
      const watch = follow(svc.current.service.port);
      await openingCursor(watch);
      const user = await enroll(client, clock, newUserId('brute'));
      const { userId } = user;
      const wrong = wrongCode(user.secret, clock);
      const wrongRecovery = wrongRecoveryCode(user.recoveryCodes);
      const tries = [
        () => client.verifyTotp({ userId, code: wrong }, as('app')),
        () => client.verifyRecoveryCode({ userId, recoveryCode: wrongRecovery }, as('app')),
        () => client.disableMfa({ userId, code: wrong }, as('app')),
      ];
      const outcomes = new Map<string, number>();
      let next = 0;
      // 25 at a time.
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          for (let i = next++; i < 500; i = next++) {
            const outcome = await outcomeOf(tries[i % tries.length]!());
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          }
        }),
      );
      expect(Object.fromEntries(outcomes)).to.deep.equal({ 'PERMISSION_DENIED/INVALID_CODE': 4, 'RESOURCE_EXHAUSTED/LOCKED_OUT': 496 });

      await client.revokeSessions({ userId }, as('app', `${userId}.sentinel`));
      const events = await takeEvents(watch, (got) => got.some((e) => e.requestId === `${userId}.sentinel`), { keep: (e) => e.userId === userId });
      watch.cancel();
      watch.close();
      expect(events.map((e) => ({ type: typeName(e), failedAttempts: e.failedAttempts }))).to.deep.equal([
        { type: 'MFA_ENABLED', failedAttempts: 0 },
        { type: 'LOCKED_OUT', failedAttempts: 5 },
        { type: 'SESSIONS_REVOKED', failedAttempts: 0 },
      ]);
      const logged = await loggedEvents(stores.mongo, stores.mongoDb, [userId]);
      expect(logged.map((e) => e.type)).to.deep.equal(['MFA_ENABLED', 'LOCKED_OUT', 'SESSIONS_REVOKED']);
      expect(await outboxEntries(stores.mongo, stores.mongoDb, [userId])).to.deep.equal(new Map());
    });

    describe('who may follow the events', () => {
      it('fails UNAUTHENTICATED without a token or with an unknown one, and PERMISSION_DENIED with reason EVENT_CALLER_REQUIRED for a caller that is neither an event caller nor an admin', async () => {
        const port = svc.current.service.port;
        const refused = [
          { metadata: callMetadata({}), code: status.UNAUTHENTICATED, reason: 'UNAUTHENTICATED' },
          { metadata: callMetadata({ token: 'unknown-token-0123456789abcdef' }), code: status.UNAUTHENTICATED, reason: 'UNAUTHENTICATED' },
          { metadata: as('app'), code: status.PERMISSION_DENIED, reason: 'EVENT_CALLER_REQUIRED' },
        ];
        for (const { metadata, code, reason } of refused) {
          const watch = watchSecurityEvents(port, { afterCursor: 'earliest' }, { metadata });
          expect(failureOf(await watch.ended)).to.deep.include({ code, reason, domain: 'mfa.v1' });
          expect(watch.messages, 'nothing sent before the refusal').to.deep.equal([]);
          watch.close();
        }
      });

      it('streams for the callers of MFA_EVENT_CALLERS and MFA_ADMIN_CALLERS', async () => {
        for (const caller of ['notifier', 'ops'] as const) {
          const watch = watchSecurityEvents(svc.current.service.port, {}, { metadata: as(caller) });
          await openingCursor(watch);
          watch.cancel();
          expect((await watch.ended).code).to.equal(status.CANCELLED);
          watch.close();
        }
      });

      it('fails PERMISSION_DENIED (EVENT_CALLER_REQUIRED) for everyone when MFA_AUTH_TOKENS is not set: every caller is anonymous', async () => {
        const open = await startTestService(stores.env);
        stores.cleanups.push(() => open.stop());
        const watch = watchSecurityEvents(open.service.port, {});
        expect(failureOf(await watch.ended)).to.deep.include({ code: status.PERMISSION_DENIED, reason: 'EVENT_CALLER_REQUIRED' });
        watch.close();
      });
    });
  });
});
