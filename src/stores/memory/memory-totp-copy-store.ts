import type { Clock } from '../../domain/clock.js';
import type { TotpCopy, TotpCopyStore } from '../ports.js';

/** In-process TotpCopyStore. */
export class MemoryTotpCopyStore implements TotpCopyStore {
  readonly #copies = new Map<string, { copy: TotpCopy; expiresAt: number }>();

  constructor(private readonly deps: { readonly clock: Clock; readonly ttlMs: number }) {}

  async get(userId: string): Promise<TotpCopy | null> {
    const kept = this.#copies.get(userId);
    if (kept === undefined) return null;
    const now = this.deps.clock.now().getTime();
    if (kept.expiresAt > now) {
      kept.expiresAt = now + this.deps.ttlMs;
      return kept.copy;
    }
    this.#copies.delete(userId);
    return null;
  }

  async put(copy: TotpCopy): Promise<void> {
    this.#copies.set(copy.userId, { copy, expiresAt: this.deps.clock.now().getTime() + this.deps.ttlMs });
  }
}
