import { ErrorReason, MfaError } from './errors.js';

/**
 * The error a call fails with when a store's server cannot be reached in time
 * (STORE_UNAVAILABLE: retry later). Every adapter throws it, through
 * stores/guard-store.ts; not to be confused with the start-up error for a
 * server that cannot be reached at all (stores/cannot-reach-at-start-up.ts).
 */
export function storeUnavailable(store: string, cause: unknown): MfaError {
  return new MfaError(ErrorReason.STORE_UNAVAILABLE, 'store unavailable; retry later', { cause: new Error(`${store} is unavailable`, { cause }) });
}
