import type { CodeProof, DeviceRecord, EnableFactor, FactorRecord, FactorStore, ProvenChange } from '../ports.js';

/** In-process FactorStore: the embedded default and the unit-test fake. Holds nothing across restarts. */
export class MemoryFactorStore implements FactorStore {
  readonly #records = new Map<string, FactorRecord>();

  async get(userId: string): Promise<FactorRecord | null> {
    return this.#records.get(userId) ?? null;
  }

  async enable(userId: string, change: EnableFactor): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current?.enabled) return false;
    this.#records.set(userId, {
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

  async spendProof(userId: string, proof: CodeProof, change: ProvenChange) {
    const current = this.#records.get(userId);
    const spent = current === undefined ? null : spend(current, proof);
    if (spent === null) return null;
    const removed = new Set(change.removeDeviceIds ?? []);
    const kept = spent.devices.filter((d) => !removed.has(d.deviceId));
    const next: FactorRecord = {
      ...spent,
      recoveryCodes: change.replaceRecoveryCodes ?? spent.recoveryCodes,
      devices: change.addDevice ? [...kept, change.addDevice] : kept,
    };
    this.#records.set(userId, next);
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
    this.#records.set(spent.userId, {
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
    this.#records.set(userId, { ...current, sessionsRevokedAt: later(current.sessionsRevokedAt, at) });
  }

  async touchDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    const current = this.#records.get(userId);
    if (current === undefined) return;
    const devices = current.devices.map((d): DeviceRecord => (d.deviceId === deviceId ? { ...d, lastUsedAt: at } : d));
    this.#records.set(userId, { ...current, devices });
  }

  async removeDevice(userId: string, deviceId: string): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current === undefined || !current.devices.some((d) => d.deviceId === deviceId)) return false;
    this.#records.set(userId, { ...current, devices: current.devices.filter((d) => d.deviceId !== deviceId) });
    return true;
  }
}

function spend(record: FactorRecord, proof: CodeProof): FactorRecord | null {
  if (!record.enabled) return null;
  if ('timeStep' in proof) {
    return proof.timeStep > record.lastTimeStep ? { ...record, lastTimeStep: proof.timeStep } : null;
  }
  const hashes = record.recoveryCodes?.hashes ?? [];
  if (!hashes.includes(proof.recoveryCodeHash)) return null;
  return { ...record, recoveryCodes: { keyId: record.recoveryCodes!.keyId, hashes: hashes.filter((h) => h !== proof.recoveryCodeHash) } };
}

function later(a: Date | null, b: Date): Date {
  return a !== null && a.getTime() > b.getTime() ? a : b;
}

function emptyRecord(userId: string): FactorRecord {
  return { userId, enabled: false, enabledAt: null, sealedSecret: null, lastTimeStep: 0, recoveryCodes: null, devices: [], sessionsRevokedAt: null };
}
