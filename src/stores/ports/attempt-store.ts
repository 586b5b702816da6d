/** The result of passing one code check through the lockout gate. */
export type AttemptOutcome =
  | { readonly kind: 'accepted' }
  /** A failed check, counted: `failures` in a row so far. */
  | { readonly kind: 'rejected'; readonly failures: number }
  /**
   * Locked: codes are not checked for `retryAfterMs`. `failures` is the count that locked the user when this check did,
   * else 0; `codeFailures` those of them that were not a security key's (the ones that count towards the suspension).
   */
  | { readonly kind: 'locked'; readonly retryAfterMs: number; readonly failures: number; readonly codeFailures: number }
  /** A failed check that reached `suspendAt` with `failures` code failures counted: no lockout started; the count stays until clear(). */
  | { readonly kind: 'limit'; readonly failures: number }
  /** A check by a caller that read the user before the suspension (its policy has `suspendAt`), after it: judged not at all. */
  | { readonly kind: 'suspended' };

/** The rule one check is settled by: the caller works out the lockout's length and the limit from the user's record. */
export interface LockoutPolicy {
  readonly maxFailures: number;
  /** How long the lockout this check would start lasts (the escalation: lockoutDurationMs). */
  readonly lockoutMs: number;
  /**
   * The failure count at which the check answers 'limit' instead (TOTP
   * suspension, issue 22); none when unset. Set only by a caller that read
   * the user as not suspended: once suspended() marked the user, its checks,
   * passed or failed, answer 'suspended'.
   */
  readonly suspendAt?: number;
  /**
   * A failed check of a security key (WEBAUTHN_INVALID): counted towards `maxFailures` like any failure, but
   * never towards `suspendAt`, now or after (issue 23: guessing a signature is not possible, and TOTP must not be
   * suspended by it). The store keeps these apart from the code failures of the same run.
   */
  readonly keyFailure?: boolean;
  /** With `suspendAt`: the version of the user's record the caller read; suspended()'s mark refuses only checks of a record no newer than the one it marks. */
  readonly readVersion?: number;
}

/** What the gate holds for a user, read without changing it. */
export interface AttemptStanding {
  /** Milliseconds left of the lockout, or 0. */
  readonly lockedMs: number;
  /** Failures counted since the last pass or lockout. */
  readonly failures: number;
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
   * counts and, when the count of code failures (a security key's, `keyFailure`,
   * left out) reaches `suspendAt`, answers 'limit' (the
   * count stays, so that a suspension that failed to be written is tried
   * again on the next failure), else when the count of all failures reaches `maxFailures` locks the
   * user for `lockoutMs` and the count starts again. Nothing expires but the lockout (issue 22): only
   * a pass, or clear(), ends a run of failures.
   */
  settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome>;
  /** Milliseconds left of the user's lockout, or 0. */
  lockoutRemainingMs(userId: string): Promise<number>;
  /** Reads, changing nothing: the lockout left and the failures counted. */
  standing(userId: string): Promise<AttemptStanding>;
  /** Forgets the user's failures, any lockout and the mark of suspended() (ResetMfa). */
  clear(userId: string): Promise<void>;
  /**
   * Once the suspension is durable: forgets the count and marks the user at
   * `version` (the record the suspending check read), so that checks still in
   * flight that read a record no newer (their policy has `suspendAt` and
   * `readVersion`) are answered 'suspended' instead of being counted from
   * zero again (issue 22's review). A record restored since has a higher
   * version, so a mark that lands late refuses none of its checks. A pass by
   * a caller that read the suspension (a recovery code), or clear(), ends the
   * mark; it also expires after a day, far beyond any call in flight.
   */
  suspended(userId: string, version: number): Promise<void>;
  /**
   * Counts `failures` again, `codeFailures` of them code failures (they never
   * expire): a lockout cleared its count here, and the write that was to keep
   * it in the user's record failed, so the next failure locks again rather
   * than losing them.
   */
  restore(userId: string, failures: number, codeFailures: number): Promise<void>;
}
