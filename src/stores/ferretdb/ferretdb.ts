import type { Db } from 'mongodb';
import { mongoCall } from '../mongo/mongo-client.js';
import type { CredentialClaimStore, FactorStore, OutboxStore } from '../ports/index.js';
import type { RedisClient } from '../redis/redis-client.js';
import { RedisUserLock } from './redis-user-lock.js';
import { serializedClaimStore } from './serialized-claim-store.js';
import { serializedFactorStore } from './serialized-factor-store.js';

/**
 * Everything the service does differently on FerretDB 1.24, the
 * MongoDB-compatible server this project tests on, in one place:
 * - it applies an update as read-modify-write without isolation, so two
 *   concurrent updates of one document can lose one, and a conditional
 *   update can match twice: each user's durable writes are serialized by a
 *   short Redis lock (serializedFactorStore, RedisUserLock), and so are the
 *   calls for one credential claim (serializedClaimStore);
 * - it has no TTL indexes, partial indexes, transactions or change streams,
 *   and its findAndModify ignores `fields`: the adapters use none of them.
 * On MongoDB nothing is added: single-document updates are atomic there.
 */

/** True when the server is FerretDB. */
export async function isFerretDb(db: Db): Promise<boolean> {
  return 'ferretdbVersion' in (await mongoCall(() => db.admin().command({ buildInfo: 1 })));
}

/**
 * The stores the server needs: `factors` and `claims` as they are on MongoDB;
 * on FerretDB, `factors` serialized per user and `claims` per credential ID.
 */
export async function adaptFactorStore(
  db: Db,
  { factors, claims }: { factors: FactorStore & OutboxStore; claims: CredentialClaimStore },
  lock: { readonly redis: RedisClient; readonly keyPrefix: string; readonly timeoutMs: number },
): Promise<{ factors: FactorStore & OutboxStore; claims: CredentialClaimStore; ferretDb: boolean }> {
  const ferretDb = await isFerretDb(db);
  if (!ferretDb) return { factors, claims, ferretDb };
  const userLock = new RedisUserLock(lock);
  return { factors: serializedFactorStore(factors, userLock), claims: serializedClaimStore(claims, userLock), ferretDb };
}
