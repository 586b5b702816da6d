import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { CredentialClaimStore } from '../ports/index.js';
import { mongoCall } from './mongo-client.js';

const DUPLICATE_KEY = 11000;
export const CREDENTIAL_CLAIMS_COLLECTION = 'mfa_webauthn_credentials';

interface ClaimDocument {
  /** The credential ID, base64url: the _id makes it unique, on one server and sharded by _id alike. */
  _id: string;
  userId: string;
  /** When the user last claimed it: its lease (absent in claims written before leases: long run out). */
  claimedAt?: Date;
}

/**
 * The CredentialClaimStore on MongoDB (and FerretDB): one small document per
 * credential ID. Each write is one single-document conditional update,
 * atomic on MongoDB; on FerretDB, whose updates are not isolated, open-stores
 * wraps it in serializedClaimStore (a Redis lock per credential ID).
 */
export class MongoCredentialClaimStore implements CredentialClaimStore {
  readonly #claims: Collection<ClaimDocument>;

  constructor(db: Db) {
    this.#claims = db.collection<ClaimDocument>(CREDENTIAL_CLAIMS_COLLECTION);
  }

  async claim(credentialId: string, userId: string, at: Date): Promise<string> {
    try {
      await mongoCall(() => this.#claims.insertOne({ _id: credentialId, userId, claimedAt: at }));
      return userId;
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
    // The user's own claim: its lease is renewed, so that no one reclaims it while this Finish writes.
    const renewed = await mongoCall(() => this.#claims.updateOne({ _id: credentialId, userId }, { $set: { claimedAt: at } }));
    if (renewed.matchedCount === 1) return userId;
    const found = await mongoCall(() => this.#claims.findOne({ _id: credentialId }));
    // Gone in between (never removed today): claim again.
    return found?.userId ?? this.claim(credentialId, userId, at);
  }

  async reclaim(credentialId: string, from: string, to: string, at: Date, claimedBefore: Date): Promise<boolean> {
    const result = await mongoCall(() =>
      this.#claims.updateOne(
        // A claim without claimedAt (written before leases) has run out too.
        { _id: credentialId, userId: from, $or: [{ claimedAt: { $lt: claimedBefore } }, { claimedAt: { $exists: false } }] },
        { $set: { userId: to, claimedAt: at } },
      ),
    );
    return result.matchedCount === 1;
  }
}
