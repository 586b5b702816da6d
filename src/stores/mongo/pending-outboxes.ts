import { randomUUID } from 'node:crypto';
import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { SecurityEventRecord } from '../../domain/security-events.js';
import { mongoCall } from './mongo-client.js';

export const PENDING_OUTBOXES_COLLECTION = 'mfa_outbox_pending';
const DUPLICATE_KEY = 11000;
/**
 * How long after its last mark a mark is kept once its outbox is empty: far
 * longer than a write can take to land (MFA_STORE_TIMEOUT_MS is at most 2.4 s),
 * so that a write marked before a sweep read the empty outbox, and landing
 * after, still finds its mark.
 */
export const PENDING_GRACE_MS = 60_000;

/**
 * A user whose outbox may hold events (docs/design.md, "The sweep reads
 * marks, not users"). `since` is the oldest event marked since the mark was
 * made, `lastAt` the newest; `token` changes with every mark, so that whoever
 * read a mark removes it only if no write marked it again since.
 */
interface PendingDocument {
  _id: string;
  since: Date;
  lastAt: Date;
  token: string;
}

/**
 * The marks of the users whose outbox may hold events, written before each
 * write that pushes events to a user's document and removed once its outbox
 * was found empty PENDING_GRACE_MS after the last mark. The relay's sweep
 * reads these instead of every user's document, so its cost follows the
 * events waiting, not the number of users (FerretDB cannot push down the
 * query on `outbox.occurredAt`: it read and decoded every document).
 */
export class PendingOutboxes {
  readonly #marks: Collection<PendingDocument>;

  constructor(db: Db) {
    this.#marks = db.collection<PendingDocument>(PENDING_OUTBOXES_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await mongoCall(() => this.#marks.createIndex({ since: 1 }, { name: 'since' }));
  }

  /** Marks `userId`'s outbox as holding `events`: before the write that pushes them. */
  async mark(userId: string, events: readonly SecurityEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    const times = events.map((e) => e.occurredAt.getTime());
    const update = { $min: { since: new Date(Math.min(...times)) }, $max: { lastAt: new Date(Math.max(...times)) }, $set: { token: randomUUID() } };
    const attempt = () => this.#marks.updateOne({ _id: userId }, update, { upsert: true });
    try {
      await mongoCall(attempt);
    } catch (error) {
      // Two first marks at once: the loser's upsert collides, and then the mark exists.
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
      await mongoCall(attempt);
    }
  }

  /** Up to `limit` users whose mark has an event older than `before`. */
  async due(before: Date, limit: number): Promise<string[]> {
    const found = await mongoCall(() => this.#marks.find({ since: { $lt: before } }, { projection: { _id: 1 } }).limit(limit).toArray());
    return found.map((mark) => mark._id);
  }

  /**
   * Once the user's outbox is empty: removes the mark if its last mark is
   * PENDING_GRACE_MS old at `now`, else moves its next look to then. The mark
   * is read before the outbox (`readOutbox`), and changed only if no write
   * marked it since (its token).
   */
  async settle(userId: string, now: Date, readOutboxLength: () => Promise<number>): Promise<void> {
    const mark = await mongoCall(() => this.#marks.findOne({ _id: userId }));
    if (mark === null || (await readOutboxLength()) > 0) return;
    const settledAt = mark.lastAt.getTime() + PENDING_GRACE_MS;
    if (settledAt <= now.getTime()) await mongoCall(() => this.#marks.deleteOne({ _id: userId, token: mark.token }));
    else await mongoCall(() => this.#marks.updateOne({ _id: userId, token: mark.token }, { $set: { since: new Date(settledAt) } }));
  }
}
