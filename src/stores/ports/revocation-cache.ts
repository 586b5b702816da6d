/** A fast copy of each user's sessionsRevokedAt; the durable value is in FactorStore. */
export interface RevocationCache {
  /** The cached value: a Date, null for "never revoked", or undefined for "not cached". */
  get(userId: string): Promise<Date | null | undefined>;
  /** Caches `at` unless a later value is cached already (null caches "never revoked"). */
  raise(userId: string, at: Date | null): Promise<void>;
}
