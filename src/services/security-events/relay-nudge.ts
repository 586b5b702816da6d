import type { SecurityEventRecord } from '../../domain/security-events.js';
import { decorateWrites } from '../../stores/decorate-writes.js';
import { FACTOR_STORE_METHODS, type FactorStore, type FactorStoreWrite } from '../../stores/ports/index.js';

/** What the relay nudge tells after a write with events. */
export interface OutboxWatcher {
  nudge(userId: string, afterMs?: number): void;
}

export interface RelayNudgeOptions {
  /** A second look this long after a failed write that carried events. */
  readonly againAfterMs: number;
  /** A last look once such a write has surely landed or failed (past the store timeout). */
  readonly finallyAfterMs: number;
}

type Events = readonly SecurityEventRecord[];

/** The security events each write carries (undefined: it carries none). */
const EVENTS_OF: { readonly [K in FactorStoreWrite]: (...args: Parameters<FactorStore[K]>) => Events | undefined } = {
  enable: (_userId, change) => change.events,
  spendProof: (_userId, _proof, change) => change.events,
  // A plain login writes none.
  spendStep: () => undefined,
  disable: (_userId, _proof, _sessionsRevokedAt, events) => events,
  renameAuthenticator: (_userId, _authenticatorId, _label, events) => events,
  upgrade: () => undefined,
  userHandle: () => undefined,
  reset: (_userId, _sessionsRevokedAt, events) => events,
  raiseSessionsRevokedAt: (_userId, _at, events) => events,
  touchDevice: () => undefined,
  removeDevice: (_userId, _deviceId, events) => events,
  recordEvents: (_userId, events) => events,
  recordLockout: (_userId, _failures, events) => events,
  suspendTotp: (_userId, _at, _count, events) => events,
};

/**
 * `factors`, nudging the relay after every write that carried security
 * events, so they reach the event log at once rather than at the next sweep.
 * Also after a write that failed: it may have committed, now or (a timeout,
 * a stalled server) a little later, so the relay looks at once, then again
 * (`againAfterMs`) and once such a write has surely landed or failed
 * (`finallyAfterMs`); a relay that finds nothing does nothing. (What lands later
 * still is the sweep's.)
 */
export function withRelayNudge(factors: FactorStore, relay: OutboxWatcher, options: RelayNudgeOptions): FactorStore {
  return decorateWrites(factors, FACTOR_STORE_METHODS, async (call, write) => {
    const events = (EVENTS_OF[call.method as FactorStoreWrite] as (...args: readonly unknown[]) => Events | undefined)(...call.args);
    const carries = events !== undefined && events.length > 0;
    try {
      const result = await write();
      if (carries) relay.nudge(call.userId);
      return result;
    } catch (error) {
      if (carries) {
        relay.nudge(call.userId);
        relay.nudge(call.userId, options.againAfterMs);
        relay.nudge(call.userId, options.finallyAfterMs);
      }
      throw error;
    }
  });
}
