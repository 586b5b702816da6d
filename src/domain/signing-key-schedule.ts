/**
 * The rotation schedule of the MFA assertion signing keys (issue 25), as pure
 * arithmetic over the stored keys and the current period
 * (MFA_ASSERTION_KEY_ROTATION_DAYS). Keys are numbered by slot from 0; the
 * anchor (when the first key was made) only keeps kids of a wiped store from
 * repeating.
 * - The very first key signs at once. Every other key is made a whole period
 *   before it signs: the key of the next slot is made as soon as the newest
 *   key starts signing, and signs a whole period later. The period is read
 *   from the settings each time, never stored: raising or lowering it applies
 *   from the next key made.
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

  /** The kid of a slot's key: the same on every instance (the anchor keeps kids of a wiped store from repeating). */
  kid(slot: number): string {
    return `mfa-${Math.floor(this.anchor.getTime() / 1000).toString(36)}-${slot}`;
  }

  /**
   * The key to make at `now`, or null when none is due: the very first key
   * (signing at once: from the anchor, which every instance read before
   * `now`, so that one whose clock reads a little earlier than the maker's
   * signs with it too), or, once the newest key signs, the next slot's, a
   * whole period from now, hence at least a period after the newest started.
   */
  nextKey(keys: readonly ScheduledKey[], now: Date): { readonly slot: number; readonly notBefore: Date } | null {
    const newest = keys.reduce<ScheduledKey | null>((a, k) => (a === null || k.slot > a.slot ? k : a), null);
    if (newest === null) return { slot: 0, notBefore: new Date(Math.min(now.getTime(), this.anchor.getTime())) };
    if (newest.notBefore.getTime() > now.getTime()) return null;
    return { slot: newest.slot + 1, notBefore: new Date(now.getTime() + this.periodMs) };
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

  /**
   * The next time after `now` when what is published or what signs changes (a
   * key starts signing, so the next one is due, or a key leaves the set); a
   * period from now when nothing is scheduled.
   */
  nextChange(keys: readonly ScheduledKey[], now: Date): Date {
    const times = [now.getTime() + this.periodMs];
    for (const k of keys) {
      times.push(k.notBefore.getTime());
      const until = this.publishedUntil(k, keys);
      if (until !== null) times.push(until.getTime());
    }
    return new Date(Math.min(...times.filter((t) => t > now.getTime())));
  }
}
