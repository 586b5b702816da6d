import { isSpendable } from '../proof.js';
import type { CodeProof, DeviceRecord, EnableFactor, FactorRecord, FactorStore, ProvenChange } from '../ports.js';

/** In-process FactorStore: the embedded default and the unit-test fake. Holds nothing across restarts. */
export class MemoryFactorStore implements FactorStore {
  readonly #records = new Map<string, FactorRecord>();

  /** Every write goes through here: it moves the version on, as the MongoDB adapter's $inc does. */
  #write(record: Omit<FactorRecord, 'version'>): void {
    this.#records.set(record.userId, { ...record, version: (this.#records.get(record.userId)?.version ?? 0) + 1 });
  }

  async get(userId: string): Promise<FactorRecord | null> {
    return this.#records.get(userId) ?? null;
  }

  async enable(userId: string, change: EnableFactor): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current?.enabled) return false;
    this.#write({
      userId,
      enabled: true,
      enabledAt: change.enabledAt,
      sealedSecret: change.sealedSecret,
      lastTimeStep: change.timeStep,
      recoveryCodes: change.recoveryCodes,
      devices: [],
      sessionsRevokedAt: later(current?.sessionsRevokedAt ?? null, change.sessionsRevokedAt),
    });
    return true;
  }

  async spendProof(userId: string, proof: CodeProof, change: ProvenChange, ifVersion?: number) {
    const current = this.#records.get(userId);
    if (ifVersion !== undefined && current?.version !== ifVersion) return null;
    const spent = current === undefined ? null : spend(current, proof);
    if (spent === null) return null;
    const removed = new Set(change.removeDeviceIds ?? []);
    const kept = spent.devices.filter((d) => !removed.has(d.deviceId));
    const next = {
      ...spent,
      recoveryCodes: change.replaceRecoveryCodes ?? spent.recoveryCodes,
      devices: change.addDevice ? [...kept, change.addDevice] : kept,
    };
    this.#write(next);
    return { recoveryCodesRemaining: next.recoveryCodes?.hashes.length ?? 0 };
  }

  async disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date): Promise<boolean> {
    const current = this.#records.get(userId);
    const spent = current === undefined ? null : spend(current, proof);
    return spent !== null && this.#turnOff(spent, sessionsRevokedAt);
  }

  async reset(userId: string, sessionsRevokedAt: Date): Promise<boolean> {
    const current = this.#records.get(userId);
    return current?.enabled === true && this.#turnOff(current, sessionsRevokedAt);
  }

  #turnOff(spent: FactorRecord, sessionsRevokedAt: Date): true {
    this.#write({
      ...spent,
      enabled: false,
      enabledAt: null,
      sealedSecret: null,
      recoveryCodes: null,
      devices: [],
      sessionsRevokedAt: later(spent.sessionsRevokedAt, sessionsRevokedAt),
    });
    return true;
  }

  async raiseSessionsRevokedAt(userId: string, at: Date): Promise<void> {
    const current = this.#records.get(userId) ?? emptyRecord(userId);
    this.#write({ ...current, sessionsRevokedAt: later(current.sessionsRevokedAt, at) });
  }

  async touchDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    const current = this.#records.get(userId);
    if (current === undefined) return;
    const devices = current.devices.map((d): DeviceRecord => (d.deviceId === deviceId ? { ...d, lastUsedAt: at } : d));
    this.#write({ ...current, devices });
  }

  async removeDevice(userId: string, deviceId: string): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current === undefined || !current.devices.some((d) => d.deviceId === deviceId)) return false;
    this.#write({ ...current, devices: current.devices.filter((d) => d.deviceId !== deviceId) });
    return true;
  }
}

function spend(record: FactorRecord, proof: CodeProof): FactorRecord | null {
  if (!isSpendable(record, proof)) return null;
  if ('timeStep' in proof) return { ...record, lastTimeStep: proof.timeStep };
  const set = record.recoveryCodes!;
  return { ...record, recoveryCodes: { keyId: set.keyId, hashes: set.hashes.filter((h) => h !== proof.recoveryCodeHash) } };
}

function later(a: Date | null, b: Date): Date {
  return a !== null && a.getTime() > b.getTime() ? a : b;
}

function emptyRecord(userId: string): FactorRecord {
  return { userId, enabled: false, enabledAt: null, sealedSecret: null, lastTimeStep: 0, recoveryCodes: null, devices: [], sessionsRevokedAt: null, version: 0 };
}
