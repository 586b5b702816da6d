import { expect } from 'chai';
import type { Db } from 'mongodb';
import { MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';
import { PENDING_GRACE_MS, PENDING_OUTBOXES_COLLECTION, PendingOutboxes } from '../../src/stores/mongo/pending-outboxes.js';
import { useRealStores } from '../support/e2e-fixture.js';
import { securityEvent } from './security-event-log-contract.js';

/**
 * The sweep's marks (docs/design.md, "The sweep reads marks, not users"):
 * each write with events marks its user first, and the sweep reads only the
 * marked users. These are the states a crash between those steps leaves.
 */
describe('MongoFactorStore: the marks of pending outboxes, and what a crash between the steps leaves', () => {
  const stores = useRealStores();
  let db: Db;
  let store: MongoFactorStore;
  let pending: PendingOutboxes;
  let counter = 0;
  const newUser = () => `pending-${process.pid}-${(counter += 1)}`;
  // securityEvent() times its events from 2026-01-01; the sweeps here are timed from there.
  const T0 = Date.UTC(2026, 0, 1);
  const at = (ms: number) => new Date(T0 + ms);
  const listed = async (before: number) => (await store.outboxes(at(before), 1000)).map((f) => f.userId);

  before(async () => {
    db = stores.mongo.db(stores.mongoDb);
    store = new MongoFactorStore(db);
    pending = new PendingOutboxes(db);
    await store.ensureIndexes();
  });

  it('marks the user before a write with events; the sweep lists the user with the events, then forgets the user once the outbox stayed empty', async () => {
    const user = newUser();
    const event = securityEvent(user, 0);
    await store.recordEvents(user, [event]);
    expect(await listed(-1)).to.not.include(user);
    expect(await store.outboxes(at(1), 1000)).to.deep.include({ userId: user, events: [event] });
    await store.dropFromOutbox(user, [event]);
    // Relayed: the mark waits out the grace, away from the sweep's reads.
    await store.settleOutbox(user, at(1_000));
    expect(await listed(PENDING_GRACE_MS - 1)).to.not.include(user);
    expect(await listed(PENDING_GRACE_MS + 1)).to.include(user);
    await store.settleOutbox(user, at(PENDING_GRACE_MS + 1));
    expect(await db.collection(PENDING_OUTBOXES_COLLECTION).countDocuments({ _id: user as never })).to.equal(0);
  });

  it('a mark whose write never landed (the writer died, or the write failed) is listed with no events, and removed after the grace', async () => {
    const user = newUser();
    await pending.mark(user, [securityEvent(user, 0)]);
    expect(await store.outboxes(at(1), 1000)).to.deep.include({ userId: user, events: [] });
    await store.settleOutbox(user, at(1));
    expect(await listed(PENDING_GRACE_MS - 1)).to.not.include(user);
    await store.settleOutbox(user, at(PENDING_GRACE_MS));
    expect(await listed(10 * PENDING_GRACE_MS)).to.not.include(user);
  });

  it('events whose write landed but were never relayed (the writer died) are listed by every sweep until relayed', async () => {
    const user = newUser();
    const event = securityEvent(user, 0);
    await store.raiseSessionsRevokedAt(user, at(0), [event]);
    // A settle before the relay (or one that failed) changes nothing while the outbox holds events.
    await store.settleOutbox(user, at(10 * PENDING_GRACE_MS));
    expect(await store.outboxes(at(1), 1000)).to.deep.include({ userId: user, events: [event] });
    expect(await store.outboxes(at(1), 1000)).to.deep.include({ userId: user, events: [event] });
  });

  it('a relayed outbox whose mark could not be settled (the relay died, or the store failed) is listed again, empty, and settled then', async () => {
    const user = newUser();
    const event = securityEvent(user, 0);
    await store.recordEvents(user, [event]);
    await store.dropFromOutbox(user, [event]);
    // No settleOutbox: the next sweep finds the mark.
    expect(await store.outboxes(at(1), 1000)).to.deep.include({ userId: user, events: [] });
    await store.settleOutbox(user, at(PENDING_GRACE_MS + 1));
    expect(await listed(10 * PENDING_GRACE_MS)).to.not.include(user);
  });

  it('keeps a mark that a write made while the sweep was settling it (its token changed), so that write is swept', async () => {
    const user = newUser();
    await pending.mark(user, [securityEvent(user, 0)]);
    const later = securityEvent(user, PENDING_GRACE_MS + 5);
    // The outbox read empty, then another instance marks and writes before the mark is removed.
    await pending.settle(user, at(PENDING_GRACE_MS + 1), async () => {
      await store.recordEvents(user, [later]);
      return 0;
    });
    expect(await store.outboxes(at(PENDING_GRACE_MS + 10), 1000)).to.deep.include({ userId: user, events: [later] });
  });

  it('marks, at start, an outbox written by a version without marks', async () => {
    const user = newUser();
    const event = securityEvent(user, 0);
    await store.recordEvents(user, [event]);
    await db.collection(PENDING_OUTBOXES_COLLECTION).deleteOne({ _id: user as never });
    expect(await listed(1)).to.not.include(user);
    await store.ensureIndexes();
    expect(await store.outboxes(at(1), 1000)).to.deep.include({ userId: user, events: [event] });
  });
});
