/** The result of passing one code check through the lockout gate. */
export type AttemptOutcome =
  | { readonly kind: 'accepted' }
  /** A failed check, counted: `failures` in a row so far. */
  | { readonly kind: 'rejected'; readonly failures: number }
  /** Locked: codes are not checked for `retryAfterMs`. `failures` is the count that locked the user when this check did, else 0. */
  | { readonly kind: 'locked'; readonly retryAfterMs: number; readonly failures: number };

export interface LockoutPolicy {
  readonly maxFailures: number;
  /** The first lockout in a row; each next one lasts twice the one before (lockoutDurationMs). */
  readonly lockoutMs: number;
  /** No lockout lasts longer (MFA_LOCKOUT_MAX_SECONDS). */
  readonly maxLockoutMs: number;
}

/** What the gate holds for a user, read without changing it. */
export interface AttemptStanding {
  /** Milliseconds left of the lockout, or 0. */
  readonly lockedMs: number;
  /** Failures counted since the last pass or the last lockout. */
  readonly failures: number;
  /** Lockouts in a row since the last pass: the next one lasts lockoutDurationMs(policy, lockouts + 1). */
  readonly lockouts: number;
}

/**
 * The lockout gate every code check passes, shared by every instance. It
 * holds no claim on any code: only the durable spend in the FactorStore
 * spends a code, so nothing here can burn one when a call is cut off.
 */
export interface AttemptStore {
  /**
   * In one atomic step: if the user is locked, says so (whatever the check
   * was). Otherwise a passed check clears the failure count and the lockouts
   * in a row; a failed one counts, and when the count reaches `maxFailures`
   * starts the next lockout in a row, for lockoutDurationMs(policy, k), and
   * the count starts again. Nothing expires on a quiet period (issue 22):
   * only a pass, or clear(), ends a run of failures.
   */
  settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome>;
  /** Milliseconds left of the user's lockout, or 0. */
  lockoutRemainingMs(userId: string): Promise<number>;
  /** Reads, changing nothing: the lockout left, the failures counted and the lockouts in a row. */
  standing(userId: string): Promise<AttemptStanding>;
  /** Forgets the user's failures, lockouts in a row and any lockout (ResetMfa: support staff start the user afresh). */
  clear(userId: string): Promise<void>;
}
