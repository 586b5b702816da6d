import { expect } from 'chai';
import type { SecurityEventRecord } from '../../src/domain/security-events.js';
import { SecurityEventWatchService } from '../../src/services/security-events/security-event-watch-service.js';
import { encodeEventCursor } from '../../src/services/security-events/event-cursor.js';
import { MemoryNotifier } from '../../src/stores/memory/memory-notifier.js';
import { MongoSecurityEventLog } from '../../src/stores/mongo/mongo-security-event-log.js';
import { systemClock } from '../../src/domain/clock.js';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';

/*
 * "Positions survive retention (mfa_event_positions keeps the newest)".
 *
 * On MongoDB the retention is a TTL index on occurredAt (ttlIndexes: true): the TTL monitor
 * deletes every expired event, the newest included, so after a quiet retention period the
 * log is empty and head() falls back to the floor in mfa_event_positions. The floor is only
 * raised after a chunk that went in completely; an append that found some of its events
 * already in the log (two relays, a relay retrying after a failed drop) inserts the others
 * and never raises the floor for them. (So does a relay killed between insertMany and
 * #raiseFloor.) FerretDB has no TTL index, so these tests delete expired documents the way
 * MongoDB's TTL monitor does (deleteMany on occurredAt), and run the log's own code.
 */
describe('Event positions after MongoDB retention (TTL) removes events', function () {
  this.timeout(60_000);
  const stores = useRealStores();
  let counter = 0;
  const event = (userId: string, occurredAt = new Date()): SecurityEventRecord => {
    counter += 1;
    return { eventId: `evt_review_${process.pid}_${Date.now()}_${counter}`, userId, type: 'SESSIONS_REVOKED', occurredAt, caller: 'app', requestId: `r${counter}` };
  };
  /** A fresh database and its log (ttlIndexes only changes ensureIndexes and expiresItself, not append/head/read). */
  async function freshLog() {
    const db = stores.mongo.db(`${stores.mongoDb}_${counter++}`);
    const log = new MongoSecurityEventLog(db, { retentionSeconds: 2, ttlIndexes: false });
    await log.ensureIndexes();
    /** What MongoDB's TTL monitor does for an index { occurredAt: 1 } with expireAfterSeconds. */
    const ttlMonitorPass = (before: Date) => db.collection('mfa_security_events').deleteMany({ occurredAt: { $lt: before } });
    return { db, log, ttlMonitorPass };
  }

  it('keeps head() at the newest position ever appended once retention has removed every event, after an append that found one of its events already logged', async () => {
    const { log, ttlMonitorPass } = await freshLog();
    const [ann, bob] = [newUserId('ann'), newUserId('bob')];
    const a = event(ann);
    await log.append([a]); // position 1; floor 1
    const b = event(bob);
    // A second relay's round: bob's new event, and ann's (already logged: its outbox was not yet emptied).
    await log.append([b, a]); // b at position 2; a is a duplicate
    expect(await log.head()).to.equal(2);
    await ttlMonitorPass(new Date(Date.now() + 60_000));
    expect(await log.head(), 'head after retention emptied the log').to.equal(2);
  });

  it('never hands out a position again: a consumer at the cursor of the last event it got receives the next event', async () => {
    const { log, ttlMonitorPass } = await freshLog();
    const [ann, bob, cy] = [newUserId('ann'), newUserId('bob'), newUserId('cy')];
    const a = event(ann);
    await log.append([a]);
    const b = event(bob);
    await log.append([b, a]);
    const consumerCursor = encodeEventCursor(2); // the consumer processed b (position 2) and stored its cursor
    await ttlMonitorPass(new Date(Date.now() + 60_000));
    const c = event(cy);
    await log.append([c]);
    const [logged] = await log.read(0, await log.head(), 10, null);
    expect(logged?.eventId).to.equal(c.eventId);

    // What WatchSecurityEvents does with the consumer's stored cursor.
    const watch = new SecurityEventWatchService({ log, notifier: new MemoryNotifier(), clock: systemClock, heartbeatMs: 15_000 });
    const start = await watch.startPosition(consumerCursor);
    const next = await log.read(start, await log.head(), 10, null);
    expect(next.map((e) => e.eventId), 'events the consumer receives after its cursor').to.deep.equal([c.eventId]);
  });

  it('never moves head() back when the TTL monitor removes the newest event but not an older-positioned one (occurredAt is not in position order)', async () => {
    const { log, ttlMonitorPass } = await freshLog();
    const now = Date.now();
    // Position 1 occurred later than position 2: e.g. position 2 is an event a dead instance left in an
    // outbox and the sweep relayed a little later, or two instances' clocks differ by a few seconds.
    await log.append([event(newUserId('ann'), new Date(now))]);
    await log.append([event(newUserId('bob'), new Date(now - 5_000))]);
    expect(await log.head()).to.equal(2);
    await ttlMonitorPass(new Date(now - 1_000)); // position 2 expired, position 1 not yet
    expect(await log.head(), 'head after the TTL monitor removed position 2').to.equal(2);
  });
});
