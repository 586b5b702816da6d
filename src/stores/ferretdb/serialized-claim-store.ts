import type { CredentialClaimStore } from '../ports/index.js';
import type { UserLock } from './serialized-factor-store.js';

/**
 * A CredentialClaimStore whose calls for one credential ID never overlap:
 * on FerretDB 1.24 a conditional update is a read-modify-write without
 * isolation, so a reclaim could overwrite the lease its owner renewed just
 * then (both read the claim, both write), and two users would hold one key.
 * The lock is the per-user one (RedisUserLock), keyed by the credential ID.
 */
export function serializedClaimStore(inner: CredentialClaimStore, lock: UserLock): CredentialClaimStore {
  const locked = <T>(credentialId: string, work: () => Promise<T>) => lock.withLock(`credential:${credentialId}`, work);
  return {
    claim: (credentialId, userId, at) => locked(credentialId, () => inner.claim(credentialId, userId, at)),
    reclaim: (credentialId, from, to, at, claimedBefore) => locked(credentialId, () => inner.reclaim(credentialId, from, to, at, claimedBefore)),
  };
}
