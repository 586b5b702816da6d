/**
 * Which user each WebAuthn credential ID belongs to, in the whole store
 * (issue 23): a credential is claimed here before the user's document is
 * written, so that one key is never registered to two users. A claim can
 * outlive its use (a registration cut off before its durable write, a key
 * removed, MFA turned off): the user it names then does not hold the
 * credential, and another user may reclaim it once its lease has run out
 * (`claimedAt`: a Finish between its claim and its durable write must not
 * lose it). Keyed by credential ID alone, so uniqueness holds on a MongoDB
 * sharded by this collection's _id, whatever the users' collection is
 * sharded by (docs/webauthn.md).
 */
export interface CredentialClaimStore {
  /**
   * Claims `credentialId` for `userId` at `at` if no one holds the claim, or
   * renews the lease (claimedAt = `at`) when it names `userId` already;
   * returns the user the claim names now.
   */
  claim(credentialId: string, userId: string, at: Date): Promise<string>;
  /**
   * Moves the claim from `from` (who does not hold the credential) to `to`,
   * claimed at `at`, only if it still names `from` and was claimed before
   * `claimedBefore` (its lease ran out); false otherwise.
   */
  reclaim(credentialId: string, from: string, to: string, at: Date, claimedBefore: Date): Promise<boolean>;
}
