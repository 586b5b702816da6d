import type { AssertionKeyStore, StoredSigningKey } from '../ports/index.js';

/** In-process AssertionKeyStore (the embedded stores and the unit tests). */
export class MemoryAssertionKeyStore implements AssertionKeyStore {
  #anchor: Date | null = null;
  readonly #keys = new Map<number, StoredSigningKey>();

  async anchor(proposed: Date): Promise<Date> {
    return (this.#anchor ??= proposed);
  }

  async list(): Promise<StoredSigningKey[]> {
    return [...this.#keys.values()].sort((a, b) => a.slot - b.slot);
  }

  async insertIfAbsent(key: StoredSigningKey): Promise<StoredSigningKey> {
    const found = this.#keys.get(key.slot);
    if (found !== undefined) return found;
    this.#keys.set(key.slot, key);
    return key;
  }

  async reseal(slot: number, from: string, to: string): Promise<boolean> {
    const found = this.#keys.get(slot);
    if (found?.sealedPrivateKey !== from) return false;
    this.#keys.set(slot, { ...found, sealedPrivateKey: to });
    return true;
  }
}
