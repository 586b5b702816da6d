import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { CredentialClaimStore } from '../ports/index.js';
import { mongoCall } from './mongo-client.js';

const DUPLICATE_KEY = 11000;
export const CREDENTIAL_CLAIMS_COLLECTION = 'mfa_webauthn_credentials';

interface ClaimDocument {
  /** The credential ID, base64url: the _id makes it unique, on one server and sharded by _id alike. */
  _id: string;
  userId: string;
}

/** The CredentialClaimStore on MongoDB (and FerretDB): one small document per credential ID. */
export class MongoCredentialClaimStore implements CredentialClaimStore {
  readonly #claims: Collection<ClaimDocument>;

  constructor(db: Db) {
    this.#claims = db.collection<ClaimDocument>(CREDENTIAL_CLAIMS_COLLECTION);
  }

  async claim(credentialId: string, userId: string): Promise<string> {
    try {
      await mongoCall(() => this.#claims.insertOne({ _id: credentialId, userId }));
      return userId;
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
    }
    const found = await mongoCall(() => this.#claims.findOne({ _id: credentialId }));
    // Gone in between (never removed today): claim again.
    return found?.userId ?? this.claim(credentialId, userId);
  }

  async reclaim(credentialId: string, from: string, to: string): Promise<boolean> {
    const result = await mongoCall(() => this.#claims.updateOne({ _id: credentialId, userId: from }, { $set: { userId: to } }));
    return result.matchedCount === 1;
  }
}
