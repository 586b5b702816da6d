import type { RevocationCache } from '../ports/index.js';

/** In-process RevocationCache. */
export class MemoryRevocationCache implements RevocationCache {
  readonly #values = new Map<string, Date | null>();

  async get(userId: string): Promise<Date | null | undefined> {
    return this.#values.get(userId);
  }

  async raise(userId: string, at: Date | null): Promise<void> {
    const current = this.#values.get(userId);
    if (current instanceof Date && (at === null || current.getTime() >= at.getTime())) return;
    this.#values.set(userId, at);
  }
}
