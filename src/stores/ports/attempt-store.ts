/** The result of passing one code check through the lockout gate. */
export type AttemptOutcome =
  | { readonly kind: 'accepted' }
  /** A failed check, counted: `failures` in a row so far. */
  | { readonly kind: 'rejected'; readonly failures: number }
  /** Locked: codes are not checked for `retryAfterMs`. `failures` is the count that locked the user when this check did, else 0. */
  | { readonly kind: 'locked'; readonly retryAfterMs: number; readonly failures: number };

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockoutMs: number;
}

/**
 * The lockout gate every code check passes, shared by every instance. It
 * holds no claim on any code: only the durable spend in the FactorStore
 * spends a code, so nothing here can burn one when a call is cut off.
 */
export interface AttemptStore {
  /**
   * In one atomic step: if the user is locked, says so (whatever the check
   * was). Otherwise a passed check clears the failure count; a failed one
   * counts, and locks the user for `lockoutMs` when the count reaches
   * `maxFailures`. Failures are forgotten after a quiet `lockoutMs`.
   */
  settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome>;
  /** Milliseconds left of the user's lockout, or 0. */
  lockoutRemainingMs(userId: string): Promise<number>;
  /** Reads, changing nothing: the lockout left (ms, or 0) and the failures counted since the last pass. */
  standing(userId: string): Promise<{ lockedMs: number; failures: number }>;
}
