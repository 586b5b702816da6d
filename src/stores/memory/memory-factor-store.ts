import { isSpendable } from '../proof.js';
import type { AuthenticatorRecord, CodeProof, DeviceRecord, EnableFactor, FactorRecord, FactorStore, ProvenChange } from '../ports.js';

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
    if (change.ifVersion !== undefined && (current?.version ?? 0) !== change.ifVersion) return false;
    this.#write({
      userId,
      enabled: true,
      enabledAt: change.enabledAt,
      authenticators: [change.authenticator],
      legacy: false,
      recoveryCodes: change.recoveryCodes,
      devices: [],
      sessionsRevokedAt: later(current?.sessionsRevokedAt ?? null, change.sessionsRevokedAt),
    });
    return true;
  }

  async spendProof(userId: string, proof: CodeProof, change: ProvenChange, ifVersion?: number) {
    const current = this.#records.get(userId);
    if (current === undefined || !isSpendable(current, proof)) return null;
    if (ifVersion !== undefined && current.version !== ifVersion) return null;
    const removed = new Set(change.removeDeviceIds ?? []);
    const kept = current.devices.filter((d) => !removed.has(d.deviceId));
    // Keyed by id, as the MongoDB adapter's map is: adding an id again replaces it.
    let authenticators = current.authenticators
      .filter((a) => a.authenticatorId !== change.removeAuthenticatorId && a.authenticatorId !== change.addAuthenticator?.authenticatorId)
      .map((a): AuthenticatorRecord =>
        'timeStep' in proof && a.authenticatorId === proof.authenticatorId
          ? { ...a, lastTimeStep: proof.timeStep, lastUsedAt: change.usedAt ?? a.lastUsedAt }
          : a,
      );
    if (change.addAuthenticator) authenticators = [...authenticators, change.addAuthenticator];
    const hashes = current.recoveryCodes?.hashes ?? [];
    const spentCodes =
      'recoveryCodeHash' in proof ? { keyId: current.recoveryCodes!.keyId, hashes: hashes.filter((h) => h !== proof.recoveryCodeHash) } : current.recoveryCodes;
    const next = {
      ...current,
      authenticators,
      recoveryCodes: change.replaceRecoveryCodes ?? spentCodes,
      devices: change.addDevice ? [...kept, change.addDevice] : kept,
      sessionsRevokedAt: change.sessionsRevokedAt ? later(current.sessionsRevokedAt, change.sessionsRevokedAt) : current.sessionsRevokedAt,
    };
    this.#write(next);
    return { recoveryCodesRemaining: next.recoveryCodes?.hashes.length ?? 0 };
  }

  async disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current === undefined || !isSpendable(current, proof)) return false;
    return this.#turnOff(current, sessionsRevokedAt);
  }

  async reset(userId: string, sessionsRevokedAt: Date): Promise<boolean> {
    const current = this.#records.get(userId);
    return current?.enabled === true && this.#turnOff(current, sessionsRevokedAt);
  }

  #turnOff(current: FactorRecord, sessionsRevokedAt: Date): true {
    this.#write({
      ...current,
      enabled: false,
      enabledAt: null,
      authenticators: [],
      recoveryCodes: null,
      devices: [],
      sessionsRevokedAt: later(current.sessionsRevokedAt, sessionsRevokedAt),
    });
    return true;
  }

  async renameAuthenticator(userId: string, authenticatorId: string, label: string): Promise<AuthenticatorRecord | null> {
    const current = this.#records.get(userId);
    const found = current?.authenticators.find((a) => a.authenticatorId === authenticatorId);
    if (current === undefined || found === undefined) return null;
    const renamed = { ...found, label };
    this.#write({ ...current, authenticators: current.authenticators.map((a) => (a === found ? renamed : a)) });
    return renamed;
  }

  async upgrade(): Promise<void> {
    // Records in memory are always in today's shape.
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

function later(a: Date | null, b: Date): Date {
  return a !== null && a.getTime() > b.getTime() ? a : b;
}

function emptyRecord(userId: string): FactorRecord {
  return { userId, enabled: false, enabledAt: null, authenticators: [], legacy: false, recoveryCodes: null, devices: [], sessionsRevokedAt: null, version: 0 };
}
