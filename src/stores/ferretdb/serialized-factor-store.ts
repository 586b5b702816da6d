import type { SecurityEventRecord } from '../../domain/security-events.js';
import type { AuthenticatorRecord, CodeProof, DeviceRecord, EnableFactor, FactorRecord, FactorStore, OutboxStore, ProvenChange, StepProof } from '../ports/index.js';

/** Runs `work` while holding the user's write lock. */
export interface UserLock {
  withLock<T>(userId: string, work: () => Promise<T>): Promise<T>;
}

/**
 * A FactorStore whose writes for one user never overlap. FerretDB 1.24
 * applies an update as read-modify-write without isolation, so two concurrent
 * updates of one document (a DisableMfa and a VerifyTotp, say) can lose one;
 * MongoDB makes single-document updates atomic and does not need this.
 * ferretdb.ts wraps the MongoDB adapter in it when the server is FerretDB.
 */
export class SerializedFactorStore implements FactorStore, OutboxStore {
  constructor(
    private readonly inner: FactorStore & OutboxStore,
    private readonly lock: UserLock,
  ) {}

  get(userId: string): Promise<FactorRecord | null> {
    return this.inner.get(userId);
  }

  devices(userId: string): Promise<readonly DeviceRecord[] | null> {
    return this.inner.devices(userId);
  }

  enable(userId: string, change: EnableFactor): Promise<boolean> {
    return this.lock.withLock(userId, () => this.inner.enable(userId, change));
  }

  spendProof(userId: string, proof: CodeProof, change: ProvenChange, ifVersion?: number) {
    return this.lock.withLock(userId, () => this.inner.spendProof(userId, proof, change, ifVersion));
  }

  spendStep(userId: string, proof: StepProof, usedAt: Date, version: number): Promise<boolean> {
    return this.lock.withLock(userId, () => this.inner.spendStep(userId, proof, usedAt, version));
  }

  disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    return this.lock.withLock(userId, () => this.inner.disable(userId, proof, sessionsRevokedAt, events));
  }

  renameAuthenticator(userId: string, authenticatorId: string, label: string, events: Events): Promise<AuthenticatorRecord | null> {
    return this.lock.withLock(userId, () => this.inner.renameAuthenticator(userId, authenticatorId, label, events));
  }

  upgrade(userId: string): Promise<void> {
    return this.lock.withLock(userId, () => this.inner.upgrade(userId));
  }

  reset(userId: string, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    return this.lock.withLock(userId, () => this.inner.reset(userId, sessionsRevokedAt, events));
  }

  raiseSessionsRevokedAt(userId: string, at: Date, events: Events): Promise<void> {
    return this.lock.withLock(userId, () => this.inner.raiseSessionsRevokedAt(userId, at, events));
  }

  touchDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    return this.lock.withLock(userId, () => this.inner.touchDevice(userId, deviceId, at));
  }

  removeDevice(userId: string, deviceId: string, events: Events): Promise<boolean> {
    return this.lock.withLock(userId, () => this.inner.removeDevice(userId, deviceId, events));
  }

  recordEvents(userId: string, events: Events): Promise<void> {
    return this.lock.withLock(userId, () => this.inner.recordEvents(userId, events));
  }

  outbox(userId: string): Promise<SecurityEventRecord[]> {
    return this.inner.outbox(userId);
  }

  outboxes(before: Date, limit: number) {
    return this.inner.outboxes(before, limit);
  }

  dropFromOutbox(userId: string, events: Events): Promise<void> {
    return this.lock.withLock(userId, () => this.inner.dropFromOutbox(userId, events));
  }
}

type Events = readonly SecurityEventRecord[];
