import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { AUTH_ENV, as, failureOf, follow, openingCursor } from '../support/security-event-callers.js';
import { loggedEvents, outboxEntries, takeEvents } from '../support/security-event-stream.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { startTestService } from '../support/test-service.js';
import type { SecurityEvent } from '../../src/gen/mfa/v1/mfa.js';
import { fromOutboxEntry } from '../../src/stores/mongo/outbox-entry.js';
import { PendingOutboxes } from '../../src/stores/mongo/pending-outboxes.js';

/** A security event as the outbox of a user's document holds it (src/stores/mongo/outbox-entry.ts), and as the log does. */
function outboxEntry(userId: string, n: number, occurredAt: Date) {
  return { eventId: `evt_${randomBytes(16).toString('base64url')}`, type: 'SESSIONS_REVOKED', occurredAt, caller: 'app', requestId: `${userId}.${n}` };
}

describe('WatchSecurityEvents when instances die (real stores, service processes)', function () {
  this.timeout(90_000);
  const stores = useRealStores();
  const factors = () => stores.mongo.db(stores.mongoDb).collection<Record<string, unknown> & { _id: string }>('mfa_factors');
  const eventLog = () => stores.mongo.db(stores.mongoDb).collection<Record<string, unknown> & { _id: string }>('mfa_security_events');

  it('has exactly one event for every change MongoDB shows when an instance is killed (SIGKILL) in a burst, and a consumer resuming on the restarted one sees each once, in order per user', async () => {
    const first = await startServiceProcess({ ...stores.env, ...AUTH_ENV });
    let second: ServiceProcess | null = null;
    try {
      const watch = follow(first.port);
      await openingCursor(watch);
      const userIds = Array.from({ length: 40 }, () => newUserId('killed'));
      const mine = new Set(userIds);
      const answered = new Set<string>();
      let dead = false;
      let kill: () => void = () => {};
      const killed = new Promise<void>((resolve) => (kill = resolve));
      // Each user: RevokeSessions again and again, one call at a time (so its order is known), until the instance dies.
      const burst = Promise.all(
        userIds.map(async (userId) => {
          for (let n = 0; !dead; n += 1) {
            try {
              await first.client.revokeSessions({ userId }, as('app', `${userId}.${n}`));
              answered.add(`${userId}.${n}`);
              if (answered.size === 150) kill();
            } catch {
              return;
            }
          }
        }),
      );
      setTimeout(kill, 10_000);
      await killed;
      dead = true;
      await first.signal('SIGKILL');
      await burst;
      const leftInOutboxes = [...(await outboxEntries(stores.mongo, stores.mongoDb, mine)).values()].flat().length;

      // The consumer processed events until the instance died; it resumes from the last one's cursor.
      const before = watch.messages.flatMap((m) => (m.event !== undefined && mine.has(m.event.userId) ? [m.event] : []));
      expect((await watch.ended).code).to.equal(status.UNAVAILABLE);
      watch.close();
      // The cursor of the last message: an event's, or a heartbeat's if none came.
      const last = watch.messages.at(-1)!;
      const lastCursor = last.event?.cursor ?? last.heartbeat!.cursor;

      second = await startServiceProcess({ ...stores.env, ...AUTH_ENV });
      // Every change MongoDB shows (RevokeSessions steps the user's version) has its event in the log, once;
      // and the outboxes empty (a killed instance's write locks on FerretDB free themselves within 16 s).
      await eventually(async () => expect(await outboxEntries(stores.mongo, stores.mongoDb, mine)).to.deep.equal(new Map()), 30_000);
      const docs = await factors().find({ _id: { $in: userIds } }).toArray();
      const logged = await loggedEvents(stores.mongo, stores.mongoDb, mine);
      const committed = Object.fromEntries(docs.map((d) => [d._id, d['version']]));
      const recorded = Object.fromEntries(docs.map((d) => [d._id, logged.filter((e) => e.userId === d._id).length]));
      expect(recorded, 'events in the log per user (vs. changes committed)').to.deep.equal(committed);
      expect(new Set(logged.map((e) => e._id)).size, 'distinct event ids').to.equal(logged.length);
      expect(new Set(logged.map((e) => e.requestId)).size, 'one event per call').to.equal(logged.length);
      const answeredWithout = [...answered].filter((requestId) => !logged.some((e) => e.requestId === requestId));
      expect(answeredWithout, 'calls answered OK without an event').to.deep.equal([]);
      // Else the kill came between relays, and this test proved less than it says.
      expect(leftInOutboxes, 'events not yet relayed when the instance died').to.be.greaterThan(0);

      const resumed = follow(second.port, lastCursor);
      await openingCursor(resumed);
      const seenBefore = new Set(before.map((e) => e.eventId));
      const rest = await takeEvents(resumed, (got) => got.length + seenBefore.size >= logged.length, {
        keep: (e) => mine.has(e.userId),
        timeoutMs: 30_000,
      });
      resumed.cancel();
      resumed.close();
      const events: SecurityEvent[] = [...before, ...rest];
      expect(new Set(events.map((e) => e.eventId)).size, 'each event once').to.equal(events.length);
      expect(events.map((e) => e.eventId).sort()).to.deep.equal(logged.map((e) => e._id).sort());
      for (const userId of userIds) {
        const calls = events.filter((e) => e.userId === userId).map((e) => Number(e.requestId.split('.').pop()));
        expect(calls, `calls of ${userId}, in the order sent`).to.deep.equal([...calls].sort((x, y) => x - y));
      }
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it('relays, at the next start, every event a relay left both in the log and in the outboxes when it died, with more than 100 waiting', async () => {
    // What a relay killed between appending events to the log and taking them out of the outboxes leaves behind:
    // 30 users with 5 events each in their outboxes (older than the sweep's settle time); the dead relay had
    // appended the first event of the first 10 users. (Built directly in MongoDB: the moment between those two
    // writes is too short to hit from outside.)
    const occurredAt = new Date(Date.now() - 10_000);
    const userIds = Array.from({ length: 30 }, () => newUserId('backlog'));
    const outboxes = new Map(userIds.map((userId) => [userId, [1, 2, 3, 4, 5].map((n) => outboxEntry(userId, n, occurredAt))]));
    await factors().insertMany(
      userIds.map((userId) => ({
        _id: userId,
        enabled: false,
        enabledAt: null,
        authenticators: {},
        recoveryCodes: null,
        devices: {},
        sessionsRevokedAt: occurredAt,
        version: 5,
        outbox: outboxes.get(userId)!,
      })),
    );
    const [newest] = await eventLog().find().sort({ position: -1 }).limit(1).toArray();
    let position = (newest?.['position'] as number | undefined) ?? 0;
    await eventLog().insertMany(
      userIds.slice(0, 10).map((userId) => {
        const { eventId, ...event } = outboxes.get(userId)![0]!;
        position += 1;
        return { _id: eventId, position, userId, ...event };
      }),
    );

    const svc = await startTestService({ ...stores.env, ...AUTH_ENV });
    try {
      await eventually(async () => expect(await outboxEntries(stores.mongo, stores.mongoDb, userIds)).to.deep.equal(new Map()), 10_000);
      const logged = await loggedEvents(stores.mongo, stores.mongoDb, userIds);
      const all = [...outboxes.values()].flat().map((e) => e.eventId);
      expect(all.filter((eventId) => !logged.some((e) => e._id === eventId)).length, 'events taken out of the outboxes but not in the log').to.equal(0);
      expect(logged.map((e) => e._id).sort()).to.deep.equal([...all].sort());
      // Each user's events in the log in the outbox's order.
      for (const userId of userIds) {
        expect(logged.filter((e) => e.userId === userId).map((e) => e.requestId)).to.deep.equal([1, 2, 3, 4, 5].map((n) => `${userId}.${n}`));
      }
    } finally {
      await svc.stop();
    }
  });

  it('announces events at once even while the outbox of another user cannot be emptied (FerretDB: a dead instance still holds its write lock)', async () => {
    const svc = await startTestService({ ...stores.env, ...AUTH_ENV });
    try {
      const watch = follow(svc.service.port);
      await openingCursor(watch);
      // A change a killed instance committed but did not relay (after marking its outbox pending, as
      // every write with events does), and the user's write lock it held (as RedisUserLock takes it: 16 s) when it died.
      const stuck = newUserId('stuck');
      const entry = outboxEntry(stuck, 1, new Date(Date.now() - 5000));
      await new PendingOutboxes(stores.mongo.db(stores.mongoDb)).mark(stuck, [fromOutboxEntry(stuck, entry as never)]);
      await factors().insertOne({ _id: stuck, enabled: false, enabledAt: null, authenticators: {}, recoveryCodes: null, devices: {}, sessionsRevokedAt: entry.occurredAt, version: 1, outbox: [entry] });
      await stores.redis.set(stores.key(stuck, 'write-lock'), 'dead-instance', 'PX', 16_000);

      // The sweep relays it to the log within a second or two.
      await eventually(async () => expect(await loggedEvents(stores.mongo, stores.mongoDb, [stuck])).to.have.length(1), 5000);
      const relayedAt = Date.now();
      // Another user's change, meanwhile.
      const other = newUserId('other');
      await svc.client.revokeSessions({ userId: other }, as('app'));
      // With a 15 s heartbeat, only the relay's notice wakes the stream early.
      const events = await takeEvents(watch, (got) => [stuck, other].every((userId) => got.some((e) => e.userId === userId)), {
        keep: (e) => e.userId === stuck || e.userId === other,
        timeoutMs: 20_000,
      });
      expect(events.find((e) => e.userId === stuck)!.eventId).to.equal(entry.eventId);
      expect(Date.now() - relayedAt, 'ms from the relay until the stream sent both events').to.be.below(5000);
      watch.cancel();
      watch.close();
    } finally {
      await svc.stop();
    }
  });

  it('ends each open stream UNAVAILABLE with reason SHUTTING_DOWN on SIGTERM, well within the grace period, and exits 0', async function () {
    this.timeout(30_000);
    const service = await startServiceProcess({ ...stores.env, ...AUTH_ENV, MFA_SHUTDOWN_GRACE_SECONDS: '120' });
    const watches = [
      follow(service.port),
      follow(service.port, 'earliest'),
    ];
    for (const watch of watches) await openingCursor(watch);
    const exited = service.signal('SIGTERM');
    for (const watch of watches) {
      // The reason is in the trailers the server wrote: the stream was ended, not its connection cut.
      expect(failureOf(await watch.ended)).to.deep.include({ code: status.UNAVAILABLE, reason: 'SHUTTING_DOWN' });
      watch.close();
    }
    expect(await exited).to.equal(0);
    await service.stop();
  });
});
