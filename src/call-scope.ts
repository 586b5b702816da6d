import { AsyncLocalStorage } from 'node:async_hooks';
import { ErrorReason, MfaError } from './domain/errors.js';

/** Who made the call being served: what a security event records of it. */
export interface CallActor {
  /** The calling service, or '' when calls are not authenticated. */
  readonly caller: string;
  readonly requestId: string;
}

interface CallScope extends CallActor {
  readonly signal: AbortSignal;
  /** Fields the call's one log line gets besides the middleware's own (addLogFields). */
  readonly logFields?: Record<string, unknown>;
}

/**
 * The gRPC call being served, visible to everything it awaits without
 * threading it through every function: its signal, which the store adapters
 * check before each operation, so a cancelled or expired call stops its work
 * at the next store round trip (and no operation outlives it by more than the
 * store timeout); and its caller and request id, for its security events.
 */
const scope = new AsyncLocalStorage<CallScope>();

export function runInCallScope<T>(call: CallScope, work: () => Promise<T>): Promise<T> {
  return scope.run(call, work);
}

/** Throws CALL_ENDED when the current call was cancelled or its deadline passed. */
export function throwIfCallEnded(): void {
  if (scope.getStore()?.signal.aborted) throw new MfaError(ErrorReason.CALL_ENDED, 'the call was cancelled or its deadline passed');
}

/** The caller and request id of the call being served; empty outside of one. */
export function currentActor(): CallActor {
  const call = scope.getStore();
  return { caller: call?.caller ?? '', requestId: call?.requestId ?? '' };
}

/** Adds fields to the log line of the call being served (never a secret: an assertion's jti, say). */
export function addLogFields(fields: Readonly<Record<string, unknown>>): void {
  const target = scope.getStore()?.logFields;
  if (target !== undefined) Object.assign(target, fields);
}

/**
 * Runs clean-up (releasing a lock, restoring what a call took) outside the
 * call's scope: a call that ended stops starting new work, but what it must
 * undo still runs, bounded by the store's own timeout.
 */
export function runDetached<T>(cleanup: () => Promise<T>): Promise<T> {
  const call = scope.getStore();
  // Its events still name the call that made them.
  return call === undefined ? cleanup() : scope.run({ ...call, signal: NEVER_ENDS }, cleanup);
}

const NEVER_ENDS = new AbortController().signal;

/**
 * Runs work that many calls share (a cache reload) outside every call's
 * scope: no one call's end cancels it for the others, and it names no call.
 */
export function runOutsideCalls<T>(work: () => Promise<T>): Promise<T> {
  return scope.exit(work);
}
