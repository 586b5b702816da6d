import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { Redemption, RedemptionStore } from '../ports/index.js';
import { mongoCall } from './mongo-client.js';

export const REDEMPTIONS_COLLECTION = 'mfa_assertion_redemptions';
const DUPLICATE_KEY = 11000;

type RedemptionDocument = Omit<Redemption, 'assertionId'> & { _id: string };

/**
 * Redemptions on MongoDB (and FerretDB): `_id` is the assertion's jti, so the
 * unique _id lets exactly one redemption in, on any number of instances and
 * whatever Redis lost. Expired ones are removed by removeExpired, in bounded
 * batches on the `expiresAt` index, rather than by a TTL index: FerretDB has
 * none, and one way on both servers is one way to test.
 */
export class MongoRedemptionStore implements RedemptionStore {
  readonly #redemptions: Collection<RedemptionDocument>;

  constructor(db: Db) {
    this.#redemptions = db.collection<RedemptionDocument>(REDEMPTIONS_COLLECTION, { readConcern: { level: 'majority' } });
  }

  /** The index of the expiry sweep; safe to call on every start. */
  async ensureIndexes(): Promise<void> {
    await mongoCall(() => this.#redemptions.createIndex({ expiresAt: 1 }, { name: 'expires_at' }));
  }

  async find(assertionId: string): Promise<Redemption | null> {
    const found = await mongoCall(() => this.#redemptions.findOne({ _id: assertionId }));
    return found === null ? null : toRedemption(found);
  }

  async insertIfAbsent(redemption: Redemption): Promise<Redemption> {
    const { assertionId, ...rest } = redemption;
    try {
      await mongoCall(() => this.#redemptions.insertOne({ _id: assertionId, ...rest }));
      return redemption;
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
    const first = await this.find(assertionId);
    if (first === null) throw new Error(`${REDEMPTIONS_COLLECTION}: ${assertionId} collided on insert but cannot be read`);
    return first;
  }

  async removeExpired(before: Date, limit: number): Promise<number> {
    const expired = await mongoCall(() =>
      this.#redemptions.find({ expiresAt: { $lt: before } }, { projection: { _id: 1 } }).sort({ expiresAt: 1 }).limit(limit).toArray(),
    );
    if (expired.length === 0) return 0;
    const result = await mongoCall(() => this.#redemptions.deleteMany({ _id: { $in: expired.map((d) => d._id) } }));
    return result.deletedCount;
  }
}

function toRedemption({ _id, redemptionId, userId, redeemedAt, expiresAt }: RedemptionDocument): Redemption {
  return { assertionId: _id, redemptionId, userId, redeemedAt, expiresAt };
}
