import type { Clock } from '../../domain/clock.js';

/** How often a write also removes every expired entry. */
const SWEEP_EVERY_MS = 10_000;

/**
 * Entries that expire each at a time of its own, by the injected clock, as
 * Redis keys with a TTL do: an expired entry reads as missing, and a write
 * at most every SWEEP_EVERY_MS removes all expired ones, so that entries
 * nobody reads again (a confirmed enrollment, a lockout count, a login copy)
 * do not stay for the life of the process.
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  #nextSweepAt = 0;

  constructor(private readonly clock: Clock) {}

  /** The value, unless missing or expired. */
  get(key: string): V | undefined {
    return this.#live(key)?.value;
  }

  /** Keeps `value` until `expiresAt` (ms since the epoch). */
  set(key: string, value: V, expiresAt: number): void {
    this.#sweep();
    this.#entries.set(key, { value, expiresAt });
  }

  /** The value of a live entry, whose expiry moves to `expiresAt` (Redis GETEX); undefined when missing or expired. */
  extend(key: string, expiresAt: number): V | undefined {
    const entry = this.#live(key);
    if (entry !== undefined) entry.expiresAt = expiresAt;
    return entry?.value;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** How many entries are held, expired ones not yet removed included (tests). */
  get held(): number {
    return this.#entries.size;
  }

  /** The entry, unless missing or expired (an expired one is removed). */
  #live(key: string): { value: V; expiresAt: number } | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt > this.clock.now().getTime()) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #sweep(): void {
    const now = this.clock.now().getTime();
    if (now < this.#nextSweepAt) return;
    this.#nextSweepAt = now + SWEEP_EVERY_MS;
    // As get() reads it: an expiry that is not later than now (NaN included) has passed.
    for (const [key, entry] of this.#entries) if (!(entry.expiresAt > now)) this.#entries.delete(key);
  }
}
