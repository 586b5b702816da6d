/**
 * Which user each WebAuthn credential ID belongs to, in the whole store
 * (issue 23): a credential is claimed here before the user's document is
 * written, so that one key is never registered to two users. A claim can
 * outlive its use (a registration cut off before its durable write, a key
 * removed, MFA turned off): the user it names then does not hold the
 * credential, and another user may reclaim it. Keyed by credential ID alone,
 * so uniqueness holds on a MongoDB sharded by this collection's _id,
 * whatever the users' collection is sharded by (docs/design.md).
 */
export interface CredentialClaimStore {
  /** Claims `credentialId` for `userId` if no one holds the claim; returns the user the claim names now. */
  claim(credentialId: string, userId: string): Promise<string>;
  /** Moves the claim from `from` (who does not hold the credential) to `to`; false when it no longer names `from`. */
  reclaim(credentialId: string, from: string, to: string): Promise<boolean>;
}
