/**
 * The rotation schedule of the MFA assertion signing keys (issue 25), as pure
 * arithmetic over the stored keys. Time is cut into periods of
 * MFA_ASSERTION_KEY_ROTATION_DAYS from an anchor (when the first key was
 * made); period n's key has slot n.
 * - The very first key signs at once. Every other key is made a whole period
 *   before it signs: the key of the next slot is made as soon as the current
 *   slot starts, and signs from the start of its own slot, or a whole period
 *   after it was made when it was made late (no instance ran at the boundary).
 * - A key stops signing when the next one starts, and stays published one more
 *   period: longer than any token lives (MFA_ASSERTION_TTL_SECONDS is at most
 *   an hour), which leaves instances that cannot open the newest key (a keyring
 *   rotation rolling out) a period to sign with the one before.
 */
export interface ScheduledKey {
  readonly kid: string;
  readonly slot: number;
  readonly createdAt: Date;
  readonly notBefore: Date;
}

export class SigningKeySchedule {
  constructor(
    readonly anchor: Date,
    readonly periodMs: number,
  ) {}

  /** The slot whose period holds `at`; 0 before the anchor (another host's clock may run a little ahead). */
  slotAt(at: Date): number {
    return Math.max(0, Math.floor((at.getTime() - this.anchor.getTime()) / this.periodMs));
  }

  slotStart(slot: number): Date {
    return new Date(this.anchor.getTime() + slot * this.periodMs);
  }

  /** The kid of a slot's key: the same on every instance (the anchor keeps kids of a wiped store from repeating). */
  kid(slot: number): string {
    return `mfa-${Math.floor(this.anchor.getTime() / 1000).toString(36)}-${slot}`;
  }

  /** The slots that must have a key at `now`: the current one and the next. */
  wantedSlots(now: Date): number[] {
    const current = this.slotAt(now);
    return [current, current + 1];
  }

  /**
   * When a key made now for `slot` starts signing: at once when no stored key
   * signs now (the very first key), else the start of its slot but never less
   * than a whole period after now, so consumers see it published a period ahead.
   */
  notBeforeOf(slot: number, now: Date, keys: readonly ScheduledKey[]): Date {
    if (!keys.some((k) => k.notBefore.getTime() <= now.getTime())) return now;
    return new Date(Math.max(this.slotStart(slot).getTime(), now.getTime() + this.periodMs));
  }

  /** When `key` stops signing: the notBefore of the next stored key; null while it has none. */
  retiredAt(key: ScheduledKey, keys: readonly ScheduledKey[]): Date | null {
    const next = keys.filter((k) => k.slot > key.slot).sort((a, b) => a.slot - b.slot)[0];
    return next === undefined ? null : next.notBefore;
  }

  /** Until when `key` is published: a period after it stops signing; null: for as long as it signs. */
  publishedUntil(key: ScheduledKey, keys: readonly ScheduledKey[]): Date | null {
    const retired = this.retiredAt(key, keys);
    return retired === null ? null : new Date(retired.getTime() + this.periodMs);
  }

  /** The keys in the JWK Set at `now`: every key made and not yet past its publication. */
  published<K extends ScheduledKey>(keys: readonly K[], now: Date): K[] {
    return keys.filter((k) => {
      const until = this.publishedUntil(k, keys);
      return until === null || now.getTime() < until.getTime();
    });
  }

  /**
   * The keys that may sign at `now`, newest first: started, and published
   * at least until a token signed now expires. The first is the schedule's;
   * the others are the fallbacks of an instance that cannot open it.
   */
  signingOrder<K extends ScheduledKey>(keys: readonly K[], now: Date, ttlMs: number): K[] {
    return keys
      .filter((k) => {
        const until = this.publishedUntil(k, keys);
        return k.notBefore.getTime() <= now.getTime() && (until === null || now.getTime() + ttlMs <= until.getTime());
      })
      .sort((a, b) => b.slot - a.slot);
  }

  /** The next time after `now` when what is published or what signs changes (a new slot starts, a key starts or ends). */
  nextChange(keys: readonly ScheduledKey[], now: Date): Date {
    const times = [this.slotStart(this.slotAt(now) + 1).getTime()];
    for (const k of keys) {
      times.push(k.notBefore.getTime());
      const until = this.publishedUntil(k, keys);
      if (until !== null) times.push(until.getTime());
    }
    return new Date(Math.min(...times.filter((t) => t > now.getTime())));
  }
}
