import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { DEFAULT_AUTHENTICATOR_LABEL, mintAuthenticatorId } from '../src/domain/authenticators.js';
import { parseKeyring } from '../src/domain/keyring.js';
import { RecoveryCodes } from '../src/domain/recovery-codes.js';
import { SecretBox, totpSecretContext } from '../src/domain/secret-box.js';
import { timeStepAt } from '../src/domain/totp.js';
import type { EnableFactor } from '../src/stores/ports/index.js';
import { withoutId, type FactorDocument } from '../src/stores/mongo/factor-document.js';
import { FACTORS_COLLECTION, MongoFactorStore } from '../src/stores/mongo/mongo-factor-store.js';

/** Documents per insertMany. */
const SEED_BATCH = 500;

/**
 * Writes `count` users with MFA on straight into the service's collection,
 * as ConfirmTotpEnrollment would leave them. The service's own store adapter
 * writes the first (MongoFactorStore.enable): its document is the shape every
 * other takes, with an id, an authenticator id, a secret sealed by the run's
 * keyring (`keys`, MFA_ENCRYPTION_KEYS) and recovery codes hashed by it of
 * its own, inserted SEED_BATCH at a time. No RPC and no pending enrollment:
 * 100,000 users take seconds on FerretDB on PostgreSQL instead of hours.
 * Their secrets are dropped: the load runs on the users the bench enrolls;
 * these make the collection as big as a deployment's. No security events, so
 * the relay has nothing of theirs to move.
 */
export async function seedUsers(options: { readonly mongoUrl: string; readonly mongoDb: string; readonly keys: string; readonly count: number; readonly prefix: string }): Promise<void> {
  if (options.count === 0) return;
  const client = await new MongoClient(options.mongoUrl).connect();
  try {
    const db = client.db(options.mongoDb);
    const keyring = parseKeyring(options.keys);
    const random = (size: number) => randomBytes(size);
    const box = new SecretBox(keyring, random);
    const codes = new RecoveryCodes(keyring, random);
    const at = new Date();
    const enableFor = (userId: string): EnableFactor => {
      const authenticatorId = mintAuthenticatorId(random);
      return {
        authenticator: {
          authenticatorId,
          label: DEFAULT_AUTHENTICATOR_LABEL,
          sealedSecret: box.seal(random(20), totpSecretContext(userId, authenticatorId)),
          lastTimeStep: timeStepAt(at),
          createdAt: at,
          lastUsedAt: null,
        },
        enabledAt: at,
        recoveryCodes: codes.issue(userId).set,
        sessionsRevokedAt: at,
        events: [],
      };
    };
    const first = `${options.prefix}0`;
    if (!(await new MongoFactorStore(db).enable(first, enableFor(first)))) throw new Error(`seeding: ${first} was already enabled`);
    const factors = db.collection<FactorDocument>(FACTORS_COLLECTION);
    const template = (await factors.findOne({ _id: first }))!;
    for (let start = 1; start < options.count; start += SEED_BATCH) {
      const batch = Array.from({ length: Math.min(SEED_BATCH, options.count - start) }, (_, i): FactorDocument => {
        const userId = `${options.prefix}${start + i}`;
        const { authenticator, recoveryCodes } = enableFor(userId);
        return { ...template, _id: userId, authenticators: { [authenticator.authenticatorId]: withoutId(authenticator) }, recoveryCodes };
      });
      await factors.insertMany(batch, { ordered: false });
    }
  } finally {
    await client.close();
  }
}
