import type { CredentialClaimStore } from '../ports/index.js';

/** In-process credential claims: the embedded default and the unit-test fake. */
export class MemoryCredentialClaimStore implements CredentialClaimStore {
  readonly #claims = new Map<string, { userId: string; claimedAt: number }>();

  async claim(credentialId: string, userId: string, at: Date): Promise<string> {
    const owner = this.#claims.get(credentialId)?.userId;
    if (owner !== undefined && owner !== userId) return owner;
    this.#claims.set(credentialId, { userId, claimedAt: at.getTime() });
    return userId;
  }

  async reclaim(credentialId: string, from: string, to: string, at: Date, claimedBefore: Date): Promise<boolean> {
    const held = this.#claims.get(credentialId);
    if (held?.userId !== from || held.claimedAt >= claimedBefore.getTime()) return false;
    this.#claims.set(credentialId, { userId: to, claimedAt: at.getTime() });
    return true;
  }
}
