import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { enrollUser, newUserId, useRealStores, useService } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import type { MfaClient } from '../support/grpc-client.js';
import type { OffsetClock } from '../support/fake-clock.js';
import { AUTH_ENV, TOKENS, as, failureOf, follow, openingCursor, retryingUnavailable } from '../support/security-event-callers.js';
import { describeEvent, loggedEvents, openStalledSecurityEventWatch, outboxEntries, takeEvents, typeName } from '../support/security-event-stream.js';
import type { TestService } from '../support/test-service.js';
import { watchEnrollment } from '../support/watch-client.js';
import { SecurityEventType, type SecurityEvent } from '../../src/gen/mfa/v1/mfa.js';

/** The one "rpc" log line of the call with this request id, or undefined while it runs. */
function rpcLogLine(svc: TestService, requestId: string): Record<string, unknown> | undefined {
  const lines = svc.logs.filter((line) => line.includes(`"requestId":"${requestId}"`) && line.includes('"msg":"rpc"'));
  expect(lines.length, 'log lines of the call').to.be.at.most(1);
  return lines[0] === undefined ? undefined : (JSON.parse(lines[0]) as Record<string, unknown>);
}

/** Enrolls a user on `client` (as `app`), without moving the clock: each user has its own secret. */
const enroll = (client: MfaClient, clock: OffsetClock, userId: string) => enrollUser(client, clock, userId, { metadata: as('app'), advanceClock: false });

describe('WatchSecurityEvents delivery: many writers, slow and idle consumers, limits, retention (real stores)', function () {
  this.timeout(60_000);
  // Servers of its own: two hundred writes at once load FerretDB so hard that, on the run's shared
  // servers beside other files, its stream once ended UNAVAILABLE (store timeout) with 2 jobs.
  const stores = useRealStores({ private: true });

  describe('on one instance', () => {
    const svc = useService(stores, AUTH_ENV);

    it('does not buffer for a client that does not read: a few events are in flight while 200 are made, and the instance serves on', async () => {
      const { client } = svc.current;
      const requestId = `stalled-${newUserId()}`;
      const opening = follow(svc.current.service.port);
      const startAt = await openingCursor(opening);
      opening.cancel();
      opening.close();
      const stalled = openStalledSecurityEventWatch(svc.current.service.port, { afterCursor: startAt }, { token: TOKENS.notifier, requestId });
      const userIds = Array.from({ length: 50 }, () => newUserId('flood'));
      await Promise.all(
        userIds.map(async (userId) => {
          for (let n = 0; n < 4; n += 1) await retryingUnavailable(() => client.revokeSessions({ userId }, as('app')));
        }),
      );
      await eventually(async () => expect(await outboxEntries(stores.mongo, stores.mongoDb, userIds)).to.deep.equal(new Map()), 20_000);
      const logged = await loggedEvents(stores.mongo, stores.mongoDb, userIds);
      expect(logged.length).to.be.at.least(200);

      // The instance serves on: a unary call, and a reader that does read gets them all.
      expect((await client.getMfaStatus({ userId: userIds[0] }, as('app'))).enabled).to.equal(false);
      const reader = follow(svc.current.service.port, startAt);
      await openingCursor(reader);
      const read = await takeEvents(reader, (got) => got.length === logged.length, { keep: (e) => userIds.includes(e.userId), timeoutMs: 20_000 });
      reader.cancel();
      reader.close();
      expect(read.map((e) => e.eventId)).to.deep.equal(logged.map((e) => e._id));

      expect(rpcLogLine(svc.current, requestId), 'the stalled stream is still open').to.equal(undefined);
      await stalled.close();
      const line = await eventually(async () => rpcLogLine(svc.current, requestId) ?? Promise.reject(new Error('not ended yet')), 5000);
      expect(line).to.deep.include({ method: 'WatchSecurityEvents', grpcCode: 'CANCELLED' });
      // A 1 KiB window holds the opening heartbeat and about 7 events (~140 bytes each): the server wrote no more than
      // the client could take (grpc-js by itself would buffer 16 messages before pushing back).
      expect(line['messages'], 'messages the stalled stream sent').to.be.within(1, 12);
    });
  });

  describe('two instances changing 50 users at once, followed on a third', () => {
    const a = useService(stores, AUTH_ENV);
    const b = useService(stores, AUTH_ENV);
    const c = useService(stores, AUTH_ENV);

    it('delivers the event of every change exactly once, in commit order per user, across a reconnect in the middle', async function () {
      this.timeout(120_000);
      const users = await Promise.all(
        Array.from({ length: 50 }, (_, i) => retryingUnavailable(() => enroll((i % 2 ? a : b).current.client, (i % 2 ? a : b).current.clock, newUserId('busy')))),
      );
      const mine = new Set(users.map((u) => u.userId));
      const keep = (e: SecurityEvent) => mine.has(e.userId) && e.requestId.includes('.step-');
      const stepOf = (e: { requestId: string }) => Number(e.requestId.split('.step-')[1]);

      const first = follow(c.current.service.port);
      await openingCursor(first);
      // Each user's four changes one after the other (so their order is known), alternating instances; all users at
      // once. A call that fails UNAVAILABLE is retried, as callers are told to: it may have committed all the same,
      // then or later (its change, and its event, are there twice, maybe after the next step's).
      const retried = new Set<string>();
      const changes = Promise.all(
        users.map(async ({ userId, authenticatorId }, i) => {
          const onRetry = () => retried.add(userId);
          for (let step = 0; step < 4; step += 1) {
            const { client } = ((i + step) % 2 ? a : b).current;
            const metadata = as('app', `${userId}.step-${step}`);
            if (step % 2 === 0) await retryingUnavailable(() => client.renameAuthenticator({ userId, authenticatorId, label: `Phone ${step}` }, metadata), onRetry);
            else await retryingUnavailable(() => client.revokeSessions({ userId }, metadata), onRetry);
          }
        }),
      );

      // A consumer that processes 100 events, stores the cursor of the 100th, loses its connection and resumes.
      const before = await takeEvents(first, (got) => got.length === 100, { keep, timeoutMs: 60_000 });
      first.cancel();
      first.close();
      await changes;

      // What MongoDB shows: each change stepped its user's version (1 after enrollment), each event is in the log.
      await eventually(async () => expect(await outboxEntries(stores.mongo, stores.mongoDb, mine)).to.deep.equal(new Map()), 30_000);
      const docs = await stores.mongo.db(stores.mongoDb).collection<{ _id: string; version: number }>('mfa_factors').find({ _id: { $in: [...mine] } }).toArray();
      const logged = (await loggedEvents(stores.mongo, stores.mongoDb, mine)).filter((e) => e.requestId.includes('.step-'));
      const committed = Object.fromEntries(docs.map((d) => [d._id, d.version - 1]));
      const recorded = Object.fromEntries(docs.map((d) => [d._id, logged.filter((e) => e.userId === d._id).length]));
      expect(recorded, 'events in the log per user (vs. changes committed)').to.deep.equal(committed);
      expect(new Set(logged.map((e) => e._id)).size, 'distinct event ids in the log').to.equal(logged.length);

      const second = follow(c.current.service.port, before.at(-1)!.cursor);
      await openingCursor(second);
      const after = await takeEvents(second, (got) => got.length === logged.length - 100, { keep, timeoutMs: 30_000 });
      // Nothing more of these users comes: a sentinel relayed after all of them arrives next.
      const sentinel = newUserId('sentinel');
      await retryingUnavailable(() => a.current.client.revokeSessions({ userId: sentinel }, as('app')));
      const extra = await takeEvents(second, (got) => got.some((e) => e.userId === sentinel), { keep: (e) => mine.has(e.userId) || e.userId === sentinel });
      second.cancel();
      second.close();
      expect(extra.filter((e) => e.userId !== sentinel).map(describeEvent), 'events after all of them').to.deep.equal([]);

      const events = [...before, ...after];
      expect(events.length).to.be.at.least(200);
      expect(new Set(events.map((e) => e.eventId)).size, 'distinct event ids').to.equal(events.length);
      // The stream follows the event log's order, and the log's order per user is the commit order.
      expect(events.map((e) => e.eventId)).to.deep.equal(logged.map((e) => e._id));
      for (const { userId } of users) {
        const steps = events.filter((e) => e.userId === userId).map(stepOf);
        expect(new Set(steps), `steps of ${userId}`).to.deep.equal(new Set([0, 1, 2, 3]));
        // Commit order is call order, unless a call was retried (its first attempt may have committed late).
        if (!retried.has(userId)) expect(steps, `steps of ${userId} in the order sent`).to.deep.equal([0, 1, 2, 3]);
        for (const event of events.filter((e) => e.userId === userId)) {
          expect(typeName(event)).to.equal(stepOf(event) % 2 === 0 ? 'AUTHENTICATOR_RENAMED' : 'SESSIONS_REVOKED');
        }
      }
      expect(retried.size, 'users none of whose calls was retried').to.be.below(users.length);
    });
  });

  describe('with MFA_EVENT_HEARTBEAT_SECONDS=1', () => {
    const svc = useService(stores, { ...AUTH_ENV, MFA_EVENT_HEARTBEAT_SECONDS: '1' });

    it('sends a heartbeat after a second without an event, with the cursor of the last event sent, or passed over by `types`', async () => {
      const userId = newUserId('idle');
      const all = follow(svc.current.service.port);
      const locks = follow(svc.current.service.port, '', [SecurityEventType.SECURITY_EVENT_TYPE_LOCKED_OUT]);
      await openingCursor(all);
      await openingCursor(locks);
      await svc.current.client.revokeSessions({ userId }, as('app'));
      const [event] = await takeEvents(all, (got) => got.length === 1, { keep: (e) => e.userId === userId });
      const started = Date.now();
      const heartbeat = await all.next(5000);
      expect(heartbeat).to.deep.equal({ event: undefined, heartbeat: { cursor: event!.cursor } });
      expect(Date.now() - started, 'the heartbeat came within 3 s').to.be.below(3000);
      // The filtered stream sends no event, but its heartbeats move on past the one it passed over.
      await eventually(async () => {
        const message = await locks.next(3000);
        expect(message.event, 'an event of another type').to.equal(undefined);
        expect(message.heartbeat!.cursor).to.equal(event!.cursor);
      }, 8000);
      for (const watch of [all, locks]) {
        watch.cancel();
        watch.close();
      }
    });
  });

  describe('with MFA_MAX_WATCH_STREAMS=1', () => {
    const svc = useService(stores, { ...AUTH_ENV, MFA_MAX_WATCH_STREAMS: '1' });

    it('fails RESOURCE_EXHAUSTED with reason STREAM_LIMIT beyond the cap, shared with WatchTotpEnrollment, and takes a stream again once one ends', async () => {
      const open = follow(svc.current.service.port);
      await openingCursor(open);
      const refused = follow(svc.current.service.port);
      expect(failureOf(await refused.ended)).to.deep.include({ code: status.RESOURCE_EXHAUSTED, reason: 'STREAM_LIMIT' });
      refused.close();
      const watchTotp = watchEnrollment(svc.current.service.port, { userId: newUserId() }, { metadata: as('app') });
      expect(failureOf(await watchTotp.ended)).to.deep.include({ code: status.RESOURCE_EXHAUSTED, reason: 'STREAM_LIMIT' });
      watchTotp.close();

      open.cancel();
      open.close();
      await eventually(async () => {
        const again = follow(svc.current.service.port);
        try {
          await openingCursor(again);
        } finally {
          again.cancel();
          again.close();
        }
      }, 5000);
    });
  });

  describe('with a retention of about 3 s (MFA_EVENT_RETENTION_DAYS=0.00003)', () => {
    // A database of its own: the other groups' events (some in the future of their services' clocks) stay out.
    const mongoDb = `mfa_test_retention_${process.pid}_${Date.now()}`;
    const svc = useService(stores, { ...AUTH_ENV, MFA_EVENT_RETENTION_DAYS: '0.00003', MONGO_DB: mongoDb });

    it('removes old events (on FerretDB, by the sweep), and then fails a cursor before them FAILED_PRECONDITION with reason CURSOR_EXPIRED', async function () {
      // MongoDB's TTL monitor runs once a minute; FerretDB has none, and the relay sweeps every second.
      const ferret = stores.mongoServer.kind.startsWith('ferretdb');
      this.timeout(ferret ? 40_000 : 180_000);
      const userId = newUserId('expiring');
      const watch = follow(svc.current.service.port);
      const opening = await openingCursor(watch);
      for (let n = 1; n <= 3; n += 1) await svc.current.client.revokeSessions({ userId }, as('app', `${userId}.${n}`));
      const old = await takeEvents(watch, (got) => got.length === 3, { keep: (e) => e.userId === userId });
      watch.cancel();
      watch.close();

      const collection = stores.mongo.db(mongoDb).collection<{ _id: string }>('mfa_security_events');
      const removed = old.slice(0, 2).map((e) => e.eventId);
      expect(await collection.countDocuments({ _id: { $in: old.map((e) => e.eventId) } })).to.equal(3);
      await eventually(
        async () => expect(await collection.countDocuments({ _id: { $in: removed } })).to.equal(0),
        ferret ? 15_000 : 150_000,
      );
      // The sweep logs once its deletes returned: the events can be gone a moment before the line is written.
      if (ferret) {
        await eventually(async () => expect(svc.current.logs.some((line) => line.includes('security events past their retention removed'))).to.equal(true), 5_000);
      }

      for (const cursor of [opening, old[0]!.cursor]) {
        const stale = follow(svc.current.service.port, cursor);
        expect(failureOf(await stale.ended)).to.deep.include({ code: status.FAILED_PRECONDITION, reason: 'CURSOR_EXPIRED' });
        stale.close();
      }
      // "earliest" starts at what is kept: the removed events are not sent, a new one is.
      await svc.current.client.revokeSessions({ userId }, as('app', `${userId}.new`));
      const earliest = follow(svc.current.service.port, 'earliest');
      await openingCursor(earliest);
      const kept = await takeEvents(earliest, (got) => got.some((e) => e.requestId === `${userId}.new`));
      earliest.cancel();
      earliest.close();
      expect(kept.filter((e) => removed.includes(e.eventId)).map(describeEvent), 'removed events sent').to.deep.equal([]);
    });
  });
});
