import type { SecurityEventRecord } from '../domain/security-events.js';
import type { AuthenticatorRecord, CodeProof, DeviceRecord, EnableFactor, FactorRecord, FactorStore, ProvenChange, StepProof } from '../stores/ports/index.js';

/** What RelayedFactorStore tells after a write with events. */
export interface OutboxWatcher {
  nudge(userId: string, afterMs?: number): void;
}

/**
 * A FactorStore that nudges the relay after every write that carried security
 * events, so they reach the event log at once rather than at the next sweep.
 * Also after a write that failed: it may have committed, now or (a timeout,
 * a stalled server) a little later, so the relay looks at once, a second
 * later, and once such a write has surely landed or failed; a relay that
 * finds nothing does nothing. (What lands later still is the sweep's.)
 */
export class RelayedFactorStore implements FactorStore {
  constructor(
    private readonly inner: FactorStore,
    private readonly relay: OutboxWatcher,
    /** When to look again after a failed write, in ms after it failed. */
    private readonly lateWriteMs: readonly number[],
  ) {}

  async #nudging<T>(userId: string, events: readonly SecurityEventRecord[] | undefined, write: () => Promise<T>): Promise<T> {
    const carries = events !== undefined && events.length > 0;
    try {
      const result = await write();
      if (carries) this.relay.nudge(userId);
      return result;
    } catch (error) {
      if (carries) {
        this.relay.nudge(userId);
        for (const ms of this.lateWriteMs) this.relay.nudge(userId, ms);
      }
      throw error;
    }
  }

  get(userId: string): Promise<FactorRecord | null> {
    return this.inner.get(userId);
  }

  devices(userId: string): Promise<readonly DeviceRecord[] | null> {
    return this.inner.devices(userId);
  }

  enable(userId: string, change: EnableFactor): Promise<boolean> {
    return this.#nudging(userId, change.events, () => this.inner.enable(userId, change));
  }

  spendProof(userId: string, proof: CodeProof, change: ProvenChange, ifVersion?: number) {
    return this.#nudging(userId, change.events, () => this.inner.spendProof(userId, proof, change, ifVersion));
  }

  spendStep(userId: string, proof: StepProof, usedAt: Date, version: number): Promise<boolean> {
    // No events: a plain login writes none.
    return this.inner.spendStep(userId, proof, usedAt, version);
  }

  disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    return this.#nudging(userId, events, () => this.inner.disable(userId, proof, sessionsRevokedAt, events));
  }

  renameAuthenticator(userId: string, authenticatorId: string, label: string, events: Events): Promise<AuthenticatorRecord | null> {
    return this.#nudging(userId, events, () => this.inner.renameAuthenticator(userId, authenticatorId, label, events));
  }

  upgrade(userId: string): Promise<void> {
    return this.inner.upgrade(userId);
  }

  reset(userId: string, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    return this.#nudging(userId, events, () => this.inner.reset(userId, sessionsRevokedAt, events));
  }

  raiseSessionsRevokedAt(userId: string, at: Date, events: Events): Promise<void> {
    return this.#nudging(userId, events, () => this.inner.raiseSessionsRevokedAt(userId, at, events));
  }

  touchDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    return this.inner.touchDevice(userId, deviceId, at);
  }

  removeDevice(userId: string, deviceId: string, events: Events): Promise<boolean> {
    return this.#nudging(userId, events, () => this.inner.removeDevice(userId, deviceId, events));
  }

  recordEvents(userId: string, events: Events): Promise<void> {
    return this.#nudging(userId, events, () => this.inner.recordEvents(userId, events));
  }
}

type Events = readonly SecurityEventRecord[];
