import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { AssertionKeyStore, StoredSigningKey } from '../ports/index.js';
import { mongoCall } from './mongo-client.js';

export const ASSERTION_KEYS_COLLECTION = 'mfa_assertion_keys';
const DUPLICATE_KEY = 11000;
const ANCHOR_ID = 'anchor';

type KeyDocument = Omit<StoredSigningKey, never> & { _id: string };
type AnchorDocument = { _id: typeof ANCHOR_ID; at: Date };

/**
 * The signing keys on MongoDB (and FerretDB): one document per slot of the
 * schedule, `_id: "slot-<n>"`, beside one `_id: "anchor"` document. Creating
 * either is an insert on its unique _id, so of instances racing to create
 * it exactly one wins on both servers (no transaction, which FerretDB lacks),
 * and the losers read the winner's.
 */
export class MongoAssertionKeyStore implements AssertionKeyStore {
  readonly #keys: Collection<KeyDocument | AnchorDocument>;

  constructor(db: Db) {
    // Majority reads: an instance must not miss a key that another one stored and acknowledged.
    this.#keys = db.collection<KeyDocument | AnchorDocument>(ASSERTION_KEYS_COLLECTION, { readConcern: { level: 'majority' } });
  }

  async anchor(proposed: Date): Promise<Date> {
    const stored = await this.#insertOrRead({ _id: ANCHOR_ID, at: proposed });
    return (stored as AnchorDocument).at;
  }

  async list(): Promise<StoredSigningKey[]> {
    const found = await mongoCall(() => this.#keys.find({ _id: { $ne: ANCHOR_ID } }).toArray());
    return (found as KeyDocument[]).map(toKey).sort((a, b) => a.slot - b.slot);
  }

  async insertIfAbsent(key: StoredSigningKey): Promise<StoredSigningKey> {
    return toKey((await this.#insertOrRead({ _id: slotId(key.slot), ...key })) as KeyDocument);
  }

  async reseal(slot: number, from: string, to: string): Promise<boolean> {
    const result = await mongoCall(() => this.#keys.updateOne({ _id: slotId(slot), sealedPrivateKey: from }, { $set: { sealedPrivateKey: to } }));
    return result.modifiedCount === 1;
  }

  async #insertOrRead(document: KeyDocument | AnchorDocument): Promise<KeyDocument | AnchorDocument> {
    try {
      await mongoCall(() => this.#keys.insertOne(document));
      return document;
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
    const stored = await mongoCall(() => this.#keys.findOne({ _id: document._id }));
    if (stored === null) throw new Error(`${ASSERTION_KEYS_COLLECTION}: ${document._id} collided on insert but cannot be read`);
    return stored as KeyDocument | AnchorDocument;
  }
}

function slotId(slot: number): string {
  return `slot-${slot}`;
}

function toKey({ kid, slot, publicJwk, sealedPrivateKey, createdAt, notBefore }: KeyDocument): StoredSigningKey {
  return { kid, slot, publicJwk, sealedPrivateKey, createdAt, notBefore };
}
