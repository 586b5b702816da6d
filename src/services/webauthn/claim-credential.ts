import { isWebAuthn, type CredentialClaimStore, type FactorRecord, type FactorStore } from '../../stores/ports/index.js';
import { credentialInUse } from './webauthn-errors.js';

/**
 * Claims a security key's credential ID for the user (CredentialClaimStore)
 * before the user's document is written: CREDENTIAL_IN_USE when the user
 * holds it already, or another user who still holds it has the claim. A
 * claim naming a user who does not hold the key (a registration cut off, a
 * key removed, MFA turned off) is taken over, conditionally on the user it
 * names, so two registrations racing for it cannot both take it, and only
 * once its lease has run out: `leaseMs` (MFA_WEBAUTHN_CHALLENGE_SECONDS)
 * after it was last claimed, which no Finish between its claim and its
 * durable write outlives. A claim by its own user renews the lease.
 */
export async function claimCredential(
  { claims, factors }: { readonly claims: CredentialClaimStore; readonly factors: FactorStore },
  credentialId: string,
  userId: string,
  record: FactorRecord | null,
  { now, leaseMs }: { readonly now: Date; readonly leaseMs: number },
): Promise<void> {
  if (record?.enabled && record.authenticators.some((a) => isWebAuthn(a) && a.credentialId === credentialId)) throw credentialInUse();
  const claimedBefore = new Date(now.getTime() - leaseMs);
  for (let tries = 0; tries < 3; tries += 1) {
    const owner = await claims.claim(credentialId, userId, now);
    if (owner === userId) return;
    const other = await factors.get(owner);
    if (other?.enabled && other.authenticators.some((a) => isWebAuthn(a) && a.credentialId === credentialId)) throw credentialInUse();
    if (await claims.reclaim(credentialId, owner, userId, now, claimedBefore)) return;
  }
  throw credentialInUse();
}
