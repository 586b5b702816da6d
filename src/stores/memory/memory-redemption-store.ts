import type { Redemption, RedemptionStore } from '../ports/index.js';

/** In-process RedemptionStore (the embedded stores and the unit tests). */
export class MemoryRedemptionStore implements RedemptionStore {
  readonly #redemptions = new Map<string, Redemption>();

  async find(assertionId: string): Promise<Redemption | null> {
    return this.#redemptions.get(assertionId) ?? null;
  }

  async insertIfAbsent(redemption: Redemption): Promise<Redemption> {
    const found = this.#redemptions.get(redemption.assertionId);
    if (found !== undefined) return found;
    this.#redemptions.set(redemption.assertionId, redemption);
    return redemption;
  }

  async removeExpired(before: Date, limit: number): Promise<number> {
    let removed = 0;
    for (const [id, redemption] of this.#redemptions) {
      if (removed >= limit) break;
      if (redemption.expiresAt.getTime() < before.getTime()) {
        this.#redemptions.delete(id);
        removed += 1;
      }
    }
    return removed;
  }
}
