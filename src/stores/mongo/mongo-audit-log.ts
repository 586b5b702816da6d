import type { Collection, Db } from 'mongodb';
import type { AuditCursor, AuditEventRecord, AuditLog } from '../ports.js';
import { mongoCall } from './mongo-client.js';

export const AUDIT_COLLECTION = 'mfa_audit_events';

interface AuditDocument extends Omit<AuditEventRecord, 'eventId'> {
  _id: string;
}

/**
 * The audit trail: one insert per event, read newest first by (occurredAt, _id).
 * Events are kept until an operator removes them (FerretDB has no TTL indexes;
 * on MongoDB a TTL index on occurredAt may be added as clean-up).
 */
export class MongoAuditLog implements AuditLog {
  readonly #events: Collection<AuditDocument>;

  constructor(db: Db) {
    this.#events = db.collection<AuditDocument>(AUDIT_COLLECTION);
  }

  /** Creates the index the listing uses; safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await mongoCall(() => this.#events.createIndex({ userId: 1, occurredAt: -1, _id: -1 }, { name: 'user_newest_first' }));
  }

  async record(event: AuditEventRecord): Promise<void> {
    const { eventId, ...rest } = event;
    await mongoCall(() => this.#events.insertOne({ _id: eventId, ...rest }));
  }

  async list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditEventRecord[]> {
    const filter =
      after === null
        ? { userId }
        : {
            userId,
            $or: [{ occurredAt: { $lt: after.occurredAt } }, { occurredAt: after.occurredAt, _id: { $lt: after.eventId } }],
          };
    const docs = await mongoCall(() => this.#events.find(filter).sort({ occurredAt: -1, _id: -1 }).limit(limit).toArray());
    return docs.map(({ _id, ...rest }) => ({ eventId: _id, ...rest }));
  }
}
