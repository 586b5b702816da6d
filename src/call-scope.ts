import { AsyncLocalStorage } from 'node:async_hooks';
import { ErrorReason, MfaError } from './domain/errors.js';

/**
 * The signal of the gRPC call being served, visible to everything it awaits
 * without threading it through every function: the store adapters check it
 * before each operation, so a cancelled or expired call stops its work at the
 * next store round trip (and no operation outlives it by more than the store
 * timeout).
 */
const scope = new AsyncLocalStorage<AbortSignal>();

export function runInCallScope<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return scope.run(signal, work);
}

/** Throws CALL_ENDED when the current call was cancelled or its deadline passed. */
export function throwIfCallEnded(): void {
  if (scope.getStore()?.aborted) throw new MfaError(ErrorReason.CALL_ENDED, 'the call was cancelled or its deadline passed');
}

/**
 * Runs clean-up (releasing a lock, restoring what a call took) outside the
 * call's scope: a call that ended stops starting new work, but what it must
 * undo still runs, bounded by the store's own timeout.
 */
export function runDetached<T>(cleanup: () => Promise<T>): Promise<T> {
  return scope.exit(cleanup);
}
