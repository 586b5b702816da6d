import type { Clock } from '../../domain/clock.js';
import type { TotpCopy, TotpCopyStore } from '../ports.js';

/** In-process TotpCopyStore. */
export class MemoryTotpCopyStore implements TotpCopyStore {
  readonly #copies = new Map<string, { copy: TotpCopy; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  async get(userId: string): Promise<TotpCopy | null> {
    const kept = this.#copies.get(userId);
    if (kept === undefined) return null;
    if (kept.expiresAt > this.clock.now().getTime()) return kept.copy;
    this.#copies.delete(userId);
    return null;
  }

  async put(copy: TotpCopy, ttlMs: number): Promise<void> {
    this.#copies.set(copy.userId, { copy, expiresAt: this.clock.now().getTime() + ttlMs });
  }
}
