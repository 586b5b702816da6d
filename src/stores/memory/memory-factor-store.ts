import type { SecurityEventRecord } from '../../domain/security-events.js';
import { isPlainLogin, isSpendable } from '../../domain/proof.js';
import { NO_FAILURES, type AuthenticatorRecord, type CodeProof, type DeviceRecord, type EnableFactor, type FactorRecord, type FactorStore, type OutboxStore, type ProvenChange, type StepProof } from '../ports/index.js';

/** In-process FactorStore: the embedded default and the unit-test fake. Holds nothing across restarts. */
export class MemoryFactorStore implements FactorStore, OutboxStore {
  readonly #records = new Map<string, FactorRecord>();
  /** Each user's outbox, beside the record as the MongoDB adapter keeps it in the document. */
  readonly #outboxes = new Map<string, SecurityEventRecord[]>();

  /**
   * Every write goes through here: it moves the version on, as the MongoDB adapter's $inc does
   * (but for a plain TOTP login: `sameVersion`), and adds the write's events.
   */
  #write(record: Omit<FactorRecord, 'version'>, events: Events = [], sameVersion = false): void {
    const version = this.#records.get(record.userId)?.version ?? 0;
    this.#records.set(record.userId, { ...record, version: sameVersion ? version : version + 1 });
    this.#push(record.userId, events);
  }

  #push(userId: string, events: Events): void {
    if (events.length > 0) this.#outboxes.set(userId, [...(this.#outboxes.get(userId) ?? []), ...events]);
  }

  async get(userId: string): Promise<FactorRecord | null> {
    return this.#records.get(userId) ?? null;
  }

  async devices(userId: string): Promise<readonly DeviceRecord[] | null> {
    const record = this.#records.get(userId);
    return record?.enabled ? record.devices : null;
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
      failures: NO_FAILURES,
      webauthnUserHandle: current?.webauthnUserHandle ?? null,
    }, change.events);
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
        'recoveryCodeHash' in proof || a.authenticatorId !== proof.authenticatorId
          ? a
          : 'timeStep' in proof && 'lastTimeStep' in a
            ? { ...a, lastTimeStep: proof.timeStep, lastUsedAt: change.usedAt ?? a.lastUsedAt }
            : 'signCount' in proof && 'signCount' in a
              ? { ...a, signCount: proof.signCount, backedUp: proof.backedUp ?? a.backedUp, lastUsedAt: change.usedAt ?? a.lastUsedAt }
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
      // A spent code ends the run of failures, and a recovery code restores suspended TOTP (issue 22).
      failures: NO_FAILURES,
    };
    this.#write(next, change.events, isPlainLogin(proof, change));
    return { recoveryCodesRemaining: next.recoveryCodes?.hashes.length ?? 0 };
  }

  async spendStep(userId: string, proof: StepProof, usedAt: Date, version: number): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current?.version !== version) return false;
    return (await this.spendProof(userId, proof, { usedAt })) !== null;
  }

  async disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current === undefined || !isSpendable(current, proof)) return false;
    return this.#turnOff(current, sessionsRevokedAt, events);
  }

  async reset(userId: string, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    const current = this.#records.get(userId);
    return current?.enabled === true && this.#turnOff(current, sessionsRevokedAt, events);
  }

  #turnOff(current: FactorRecord, sessionsRevokedAt: Date, events: Events): true {
    this.#write({
      ...current,
      enabled: false,
      enabledAt: null,
      authenticators: [],
      recoveryCodes: null,
      devices: [],
      sessionsRevokedAt: later(current.sessionsRevokedAt, sessionsRevokedAt),
      failures: NO_FAILURES,
    }, events);
    return true;
  }

  async renameAuthenticator(userId: string, authenticatorId: string, label: string, events: Events): Promise<AuthenticatorRecord | null> {
    const current = this.#records.get(userId);
    const found = current?.authenticators.find((a) => a.authenticatorId === authenticatorId);
    if (current === undefined || found === undefined) return null;
    const renamed = { ...found, label };
    this.#write({ ...current, authenticators: current.authenticators.map((a) => (a === found ? renamed : a)) }, events);
    return renamed;
  }

  async userHandle(userId: string, proposed: string): Promise<string> {
    const current = this.#records.get(userId) ?? emptyRecord(userId);
    if (current.webauthnUserHandle !== null) return current.webauthnUserHandle;
    this.#write({ ...current, webauthnUserHandle: proposed });
    return proposed;
  }

  async upgrade(): Promise<void> {
    // Records in memory are always in today's shape.
  }

  async raiseSessionsRevokedAt(userId: string, at: Date, events: Events): Promise<void> {
    const current = this.#records.get(userId) ?? emptyRecord(userId);
    this.#write({ ...current, sessionsRevokedAt: later(current.sessionsRevokedAt, at) }, events);
  }

  async recordEvents(userId: string, events: Events): Promise<void> {
    if (events.length === 0) return;
    // No version step, as on MongoDB: events change nothing a versioned write depends on.
    if (!this.#records.has(userId)) this.#records.set(userId, emptyRecord(userId));
    this.#push(userId, events);
  }

  async recordLockout(userId: string, failures: number, events: Events): Promise<void> {
    const current = this.#records.get(userId) ?? emptyRecord(userId);
    const { count, lockouts } = current.failures;
    // No version step, as on MongoDB: a login on an older copy may still clear the count.
    this.#records.set(userId, { ...current, failures: { ...current.failures, count: count + failures, lockouts: lockouts + 1 } });
    this.#push(userId, events);
  }

  async suspendTotp(userId: string, at: Date, count: number, events: Events): Promise<boolean> {
    const current = this.#records.get(userId);
    if (!current?.enabled || current.failures.totpSuspendedAt !== null) return false;
    this.#write({ ...current, failures: { ...current.failures, count, totpSuspendedAt: at } }, events);
    return true;
  }

  async outbox(userId: string): Promise<SecurityEventRecord[]> {
    return [...(this.#outboxes.get(userId) ?? [])];
  }

  async outboxes(before: Date, limit: number) {
    return [...this.#outboxes]
      .filter(([, events]) => events.some((e) => e.occurredAt.getTime() < before.getTime()))
      .slice(0, limit)
      .map(([userId, events]) => ({ userId, events: [...events] }));
  }

  async settleOutbox(): Promise<void> {
    // Nothing to settle: outboxes() reads the outboxes themselves.
  }

  async dropFromOutbox(userId: string, events: Events): Promise<void> {
    const dropped = new Set(events.map((e) => e.eventId));
    const left = (this.#outboxes.get(userId) ?? []).filter((e) => !dropped.has(e.eventId));
    if (left.length > 0) this.#outboxes.set(userId, left);
    else this.#outboxes.delete(userId);
  }

  async touchDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    const current = this.#records.get(userId);
    if (current === undefined) return;
    const devices = current.devices.map((d): DeviceRecord => (d.deviceId === deviceId ? { ...d, lastUsedAt: at } : d));
    this.#write({ ...current, devices });
  }

  async removeDevice(userId: string, deviceId: string, events: Events): Promise<boolean> {
    const current = this.#records.get(userId);
    if (current === undefined || !current.devices.some((d) => d.deviceId === deviceId)) return false;
    this.#write({ ...current, devices: current.devices.filter((d) => d.deviceId !== deviceId) }, events);
    return true;
  }
}

type Events = readonly SecurityEventRecord[];

function later(a: Date | null, b: Date): Date {
  return a !== null && a.getTime() > b.getTime() ? a : b;
}

function emptyRecord(userId: string): FactorRecord {
  return {
    userId, enabled: false, enabledAt: null, authenticators: [], legacy: false, recoveryCodes: null, devices: [], sessionsRevokedAt: null, version: 0,
    failures: NO_FAILURES, webauthnUserHandle: null,
  };
}
