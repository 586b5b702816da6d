import { MongoServerError, type Collection, type Db, type Filter } from 'mongodb';
import type { LoggedSecurityEvent, SecurityEventRecord, SecurityEventType } from '../../domain/security-events.js';
import { newestFirst } from '../../domain/audit-trail.js';
import type { AuditCursor, AuditTrailEntry, LegacyAuditEvent, SecurityEventLog } from '../ports/index.js';
import { storeUnavailable } from '../../domain/store-unavailable-error.js';
import { mongoCall } from './mongo-client.js';

export const SECURITY_EVENTS_COLLECTION = 'mfa_security_events';
/** The first version's audit trail: read by ListAuditEvents, never written again, emptied by retention. */
export const LEGACY_AUDIT_COLLECTION = 'mfa_audit_events';
export const POSITIONS_COLLECTION = 'mfa_event_positions';

interface EventDocument extends Omit<LoggedSecurityEvent, 'eventId'> {
  _id: string;
}
interface LegacyDocument extends Omit<LegacyAuditEvent, 'eventId'> {
  _id: string;
}

const DUPLICATE_KEY = 11000;
/**
 * Most documents per insertMany. FerretDB 1.24 inserts in internal batches of
 * 100 and, after a failed document, still inserts the later batches of an
 * "ordered" insert, which would leave gaps and reorder a user's events; at
 * most 64 per call, an ordered insert stops at its first failure on every
 * server.
 */
const INSERT_CHUNK = 64;
// Index options that differ from an existing index of that name (a changed retention).
const INDEX_OPTIONS_CONFLICT = new Set([85, 86]);
// Each collision, one of the instances appending at once wins its positions: this bounds how many may.
const MAX_COLLISIONS = 32;

/**
 * The event log on MongoDB: one document per event, `_id` its event id and a
 * unique index on `position`. Positions are handed out without a counter: an
 * append takes the newest position it can read, plus one, and inserts there
 * (insertMany, ordered). Of two instances that pick the same position, the
 * unique index lets one win; the other reads again and retries. So a position
 * n is only ever written after n - 1 was committed and visible, which is what
 * a reader needs: having read n, nothing can still commit below it (a counter
 * taken with $inc would hand out n + 1 to an insert that commits before n's).
 * Reads and writes use majority read and write concern, so a failover cannot
 * roll back a position a reader or writer has seen.
 *
 * Retention: a TTL index on occurredAt where the server has them (MongoDB);
 * else removeBefore, run by EventRelay. `mfa_event_positions` keeps the
 * newest position ever appended, so that positions never start again when
 * retention has emptied the log.
 */
export class MongoSecurityEventLog implements SecurityEventLog {
  readonly #events: Collection<EventDocument>;
  readonly #legacy: Collection<LegacyDocument>;
  readonly #positions: Collection<{ _id: string; position: number }>;

  constructor(
    db: Db,
    private readonly options: { readonly retentionSeconds: number; readonly ttlIndexes: boolean },
  ) {
    const majority = { readConcern: { level: 'majority' as const } };
    this.#events = db.collection<EventDocument>(SECURITY_EVENTS_COLLECTION, majority);
    this.#legacy = db.collection<LegacyDocument>(LEGACY_AUDIT_COLLECTION);
    this.#positions = db.collection(POSITIONS_COLLECTION, majority);
  }

  get expiresItself(): boolean {
    return this.options.ttlIndexes;
  }

  /** Creates the indexes (and, on MongoDB, the TTL indexes of the retention); safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await mongoCall(() => this.#events.createIndex({ position: 1 }, { unique: true, name: 'position' }));
    await mongoCall(() => this.#events.createIndex({ userId: 1, occurredAt: -1, _id: -1 }, { name: 'user_newest_first' }));
    await mongoCall(() => this.#legacy.createIndex({ userId: 1, occurredAt: -1, _id: -1 }, { name: 'user_newest_first' }));
    if (!this.options.ttlIndexes) return;
    for (const collection of [this.#events, this.#legacy] as unknown as Collection[]) {
      await this.#ensureTtl(collection);
    }
  }

  async #ensureTtl(collection: Collection): Promise<void> {
    const expireAfterSeconds = this.options.retentionSeconds;
    try {
      await mongoCall(() => collection.createIndex({ occurredAt: 1 }, { name: 'retention', expireAfterSeconds }));
    } catch (error) {
      if (!(error instanceof MongoServerError && INDEX_OPTIONS_CONFLICT.has(Number(error.code)))) throw error;
      // MFA_EVENT_RETENTION_DAYS changed: the index keeps its name and takes the new period.
      await mongoCall(() => collection.db.command({ collMod: collection.collectionName, index: { name: 'retention', expireAfterSeconds } }));
    }
  }

  async append(events: readonly SecurityEventRecord[]): Promise<void> {
    let remaining = [...new Map(events.map((e) => [e.eventId, e])).values()];
    // The first try starts after the floor (one read by _id): every append raises it to what it
    // wrote, so it is the head unless an append died before raising it, and then the insert
    // collides. head() (on FerretDB a scan of the log) is read only after a collision; after a
    // chunk of ours went in, the next free position is the one after it.
    let start = (await this.#floor()) + 1;
    let highest = 0;
    for (let collisions = 0; collisions < MAX_COLLISIONS && remaining.length > 0; ) {
      const chunk = remaining.slice(0, INSERT_CHUNK);
      const docs = chunk.map(({ eventId, ...event }, i): EventDocument => ({ _id: eventId, position: start + i, ...event }));
      const complete = await mongoCall(() =>
        this.#events.insertMany(docs, { ordered: true }).then(
          () => true,
          (error: unknown) => {
            // Another instance took a position first, or appended one of these events already.
            if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
            throw error;
          },
        ),
      );
      if (complete) {
        highest = start + docs.length - 1;
        remaining = remaining.slice(docs.length);
        start += docs.length;
        continue;
      }
      collisions += 1;
      // Which went in is read back, not taken from insertedCount: the log is the authority.
      // (The documents before the failed one did; none after it did.)
      const present = await mongoCall(() =>
        this.#events.find({ _id: { $in: remaining.map((e) => e.eventId) } }, { projection: { _id: 1, position: 1 } }).toArray(),
      );
      if (present.length > 0) await this.#raiseFloor(Math.max(...present.map((d) => d.position)));
      const ids = new Set(present.map((d) => d._id));
      remaining = remaining.filter((e) => !ids.has(e.eventId));
      start = (await this.head()) + 1;
    }
    if (highest > 0) await this.#raiseFloor(highest);
    if (remaining.length > 0) throw storeUnavailable('MongoDB (event positions kept being taken)', null);
  }

  async #raiseFloor(position: number): Promise<void> {
    const raise = () => this.#positions.updateOne({ _id: 'head' }, { $max: { position } }, { upsert: true });
    await mongoCall(() =>
      raise().catch((error: unknown) => {
        // Two first appends at once: the loser's upsert collides, and then the document exists.
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return raise();
        throw error;
      }),
    );
  }

  /** The newest position any append has recorded (never above the head: it is raised only to positions written). */
  async #floor(): Promise<number> {
    const floor = await mongoCall(() => this.#positions.findOne({ _id: 'head' }));
    return floor?.position ?? 0;
  }

  /**
   * The newest position, or the floor if higher: retention (a TTL index removes
   * the newest event too, and occurredAt is not in position order) must never
   * make a position be handed out again. A floor found behind the log (an
   * append that died before raising it) is raised here.
   */
  async head(): Promise<number> {
    const [[newest], floor] = await Promise.all([
      mongoCall(() => this.#events.find({}, { projection: { position: 1 } }).sort({ position: -1 }).limit(1).toArray()),
      this.#floor(),
    ]);
    const [logged, kept] = [newest?.position ?? 0, floor];
    if (logged > kept) await this.#raiseFloor(logged);
    return Math.max(logged, kept);
  }

  async oldest(): Promise<number | null> {
    const [first] = await mongoCall(() => this.#events.find({}, { projection: { position: 1 } }).sort({ position: 1 }).limit(1).toArray());
    return first?.position ?? null;
  }

  async read(after: number, upTo: number, limit: number, types: readonly SecurityEventType[] | null): Promise<LoggedSecurityEvent[]> {
    const filter: Filter<EventDocument> = { position: { $gt: after, $lte: upTo }, ...(types === null ? {} : { type: { $in: [...types] } }) };
    const docs = await mongoCall(() => this.#events.find(filter).sort({ position: 1 }).limit(limit).toArray());
    return docs.map(({ _id, ...rest }) => ({ eventId: _id, ...rest }));
  }

  async list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditTrailEntry[]> {
    const filter =
      after === null
        ? { userId }
        : { userId, $or: [{ occurredAt: { $lt: after.occurredAt } }, { occurredAt: after.occurredAt, _id: { $lt: after.eventId } }] };
    const page = <D extends { _id: string }>(collection: Collection<D>) =>
      mongoCall(() => collection.find(filter as Filter<D>).sort({ occurredAt: -1, _id: -1 }).limit(limit).toArray());
    const [events, legacy] = await Promise.all([page(this.#events), page(this.#legacy)]);
    const entries: AuditTrailEntry[] = [...events, ...legacy].map(({ _id, ...rest }) => ({ eventId: _id, ...rest }) as AuditTrailEntry);
    return entries.sort(newestFirst).slice(0, limit);
  }

  async removeBefore(before: Date): Promise<number> {
    const newest = await this.head();
    const events = await mongoCall(() => this.#events.deleteMany({ occurredAt: { $lt: before }, position: { $lt: newest } }));
    const legacy = await mongoCall(() => this.#legacy.deleteMany({ occurredAt: { $lt: before } }));
    return events.deletedCount + legacy.deletedCount;
  }
}
