import { decorateWrites } from '../decorate-writes.js';
import { FACTOR_STORE_METHODS, OUTBOX_STORE_METHODS, type FactorStore, type OutboxStore } from '../ports/index.js';

/** Runs `work` while holding the user's write lock. */
export interface UserLock {
  withLock<T>(userId: string, work: () => Promise<T>): Promise<T>;
}

/**
 * A FactorStore (and the OutboxStore over the same documents) whose writes
 * for one user never overlap. FerretDB 1.24 applies an update as
 * read-modify-write without isolation, so two concurrent updates of one
 * document (a DisableMfa and a VerifyTotp, say) can lose one; MongoDB makes
 * single-document updates atomic and does not need this. ferretdb.ts wraps
 * the MongoDB adapter in it when the server is FerretDB.
 */
export function serializedFactorStore(inner: FactorStore & OutboxStore, lock: UserLock): FactorStore & OutboxStore {
  return decorateWrites(inner, { ...FACTOR_STORE_METHODS, ...OUTBOX_STORE_METHODS }, (call, write) => lock.withLock(call.userId, write));
}
