/**
 * How long the k-th lockout in a row lasts (issue 22): the base lockout
 * doubled for each earlier one, capped at `maxLockoutMs`, so that pausing
 * between lockouts buys an attacker fewer and fewer guesses a day.
 * The lockout (services/code-checks/lockout.ts) works it out from the user's
 * record and hands it to the attempt store's atomic step as `lockoutMs`.
 */
export function lockoutDurationMs(policy: { readonly lockoutMs: number; readonly maxLockoutMs: number }, lockoutsInARow: number): number {
  // Past 2^40 the cap has long won; the exponent's bound keeps the product finite.
  const doublings = Math.min(Math.max(lockoutsInARow - 1, 0), 40);
  return Math.min(policy.lockoutMs * 2 ** doublings, policy.maxLockoutMs);
}
