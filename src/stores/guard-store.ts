import { throwIfCallEnded } from '../call-scope.js';
import { storeUnavailable } from '../domain/store-unavailable-error.js';

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
