import type { CredentialClaimStore } from '../ports/index.js';

/** In-process credential claims: the embedded default and the unit-test fake. */
export class MemoryCredentialClaimStore implements CredentialClaimStore {
  readonly #owners = new Map<string, string>();

  async claim(credentialId: string, userId: string): Promise<string> {
    const owner = this.#owners.get(credentialId);
    if (owner !== undefined) return owner;
    this.#owners.set(credentialId, userId);
    return userId;
  }

  async reclaim(credentialId: string, from: string, to: string): Promise<boolean> {
    if (this.#owners.get(credentialId) !== from) return false;
    this.#owners.set(credentialId, to);
    return true;
  }
}
