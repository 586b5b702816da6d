import { throwIfCallEnded } from '../call-scope.js';
import { ErrorReason, MfaError } from '../domain/errors.js';

/** The error every adapter throws when its server cannot be reached in time. */
export function storeUnavailable(store: string, cause: unknown): MfaError {
  return new MfaError(ErrorReason.STORE_UNAVAILABLE, 'store unavailable; retry later', { cause: new Error(`${store} is unavailable`, { cause }) });
}

/**
 * Runs one store operation, unless the call it serves has ended; errors that `isOutage` recognises become
 * STORE_UNAVAILABLE, anything else (a bug, a rejected command) passes through
 * and ends as INTERNAL.
 */
export async function guardStore<T>(store: string, isOutage: (error: unknown) => boolean, operation: () => Promise<T>): Promise<T> {
  throwIfCallEnded();
  try {
    return await operation();
  } catch (error) {
    throw isOutage(error) ? storeUnavailable(store, error) : error;
  }
}
