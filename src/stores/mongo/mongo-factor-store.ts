import { MongoServerError, type Collection, type Db, type Filter, type UpdateFilter } from 'mongodb';
import { AUTHENTICATOR_ID_PATTERN, LEGACY_AUTHENTICATOR_ID } from '../../domain/authenticators.js';
import { DEVICE_ID_PATTERN } from '../../domain/device-tokens.js';
import type { SecurityEventRecord } from '../../domain/security-events.js';
import { isPlainLogin } from '../../domain/proof.js';
import type { AuthenticatorRecord, CodeProof, DeviceRecord, EnableFactor, FactorRecord, FactorStore, OutboxStore, ProvenChange, StepProof } from '../ports/index.js';
import { authenticatorPath, FAILURE_FIELDS, isLegacy, LEGACY_FIELDS, toDevices, toRecord, withoutId, type FactorDocument } from './factor-document.js';
import { mongoCall } from './mongo-client.js';
import { fromOutboxEntry, toOutboxEntry, type OutboxEntry } from './outbox-entry.js';
import { PendingOutboxes } from './pending-outboxes.js';

const DUPLICATE_KEY = 11000;
export const FACTORS_COLLECTION = 'mfa_factors';

/**
 * The FactorStore and OutboxStore on MongoDB (and FerretDB): one document per
 * user, its shape and the legacy mapping in factor-document.ts.
 */
export class MongoFactorStore implements FactorStore, OutboxStore {
  readonly #factors: Collection<FactorDocument>;
  readonly #pending: PendingOutboxes;

  constructor(db: Db) {
    this.#factors = db.collection<FactorDocument>(FACTORS_COLLECTION);
    this.#pending = new PendingOutboxes(db);
  }

  /**
   * Creates the indexes and marks every outbox that holds events without a
   * mark (written by a version before the marks); safe to call on every start.
   * On FerretDB that look reads every document once per start.
   */
  async ensureIndexes(): Promise<void> {
    await mongoCall(() => this.#factors.createIndex({ 'outbox.occurredAt': 1 }, { name: 'outbox_oldest' }));
    await this.#pending.ensureIndexes();
    const unmarked = await mongoCall(() =>
      this.#factors.find({ 'outbox.occurredAt': { $lt: new Date(8.64e15) } }, { projection: { outbox: 1 } }).toArray(),
    );
    for (const doc of unmarked) await this.#pending.mark(doc._id, (doc.outbox ?? []).map((entry) => fromOutboxEntry(doc._id, entry)));
  }

  async get(userId: string): Promise<FactorRecord | null> {
    const found = await mongoCall(() => this.#factors.findOne({ _id: userId }));
    return found === null ? null : toRecord(found);
  }

  async devices(userId: string): Promise<readonly DeviceRecord[] | null> {
    // A projection: the device check's read is on a hot path (bench: ~9% less driver CPU than the whole document).
    const found = await mongoCall(() => this.#factors.findOne({ _id: userId }, { projection: { enabled: 1, devices: 1 } }));
    return found?.enabled ? toDevices(found) : null;
  }

  async enable(userId: string, change: EnableFactor): Promise<boolean> {
    // Matches a missing or disabled record. An enabled one makes the upsert
    // collide on _id; so can a concurrent upsert that created the record
    // (RevokeSessions), which is why a collision is checked once more.
    const filter = { _id: userId, enabled: { $ne: true }, ...(change.ifVersion === undefined ? {} : versionFilter(change.ifVersion)) };
    const events = await this.#pushEvents(userId, change.events);
    const attempt = () =>
      this.#factors.updateOne(
        filter,
        {
          $set: {
            enabled: true,
            enabledAt: change.enabledAt,
            authenticators: { [authenticatorPath(change.authenticator.authenticatorId)]: withoutId(change.authenticator) },
            recoveryCodes: change.recoveryCodes,
            devices: {},
          },
          $unset: { ...LEGACY_FIELDS, ...FAILURE_FIELDS },
          $max: { sessionsRevokedAt: change.sessionsRevokedAt },
          $inc: { version: 1 },
          ...events,
        },
        { upsert: true },
      );
    for (let tries = 0; tries < 3; tries += 1) {
      if (!(await upsertOnce(attempt))) return true;
      const current = await this.get(userId);
      // On, or at another version than asked: the upsert collided with an existing record it must not change.
      if (current?.enabled || (change.ifVersion !== undefined && current !== null && current.version !== change.ifVersion)) return false;
    }
    throw new Error('enable kept colliding with concurrent upserts of the same user');
  }

  async spendProof(userId: string, proof: CodeProof, change: ProvenChange, ifVersion?: number) {
    const set: Record<string, unknown> = {};
    // A spent code ends the run of failures, and a recovery code restores suspended TOTP (issue 22).
    const unset: Record<string, ''> = { ...FAILURE_FIELDS };
    const update: Record<string, unknown> = isPlainLogin(proof, change) ? {} : { $inc: { version: 1 } };
    // A removed authenticator's entry goes whole: setting its fields too would be a conflicting update.
    if (!('recoveryCodeHash' in proof) && proof.authenticatorId !== change.removeAuthenticatorId) {
      const path = `authenticators.${authenticatorPath(proof.authenticatorId)}`;
      if ('timeStep' in proof) set[`${path}.lastTimeStep`] = proof.timeStep;
      else {
        set[`${path}.signCount`] = proof.signCount;
        if (proof.backedUp !== undefined) set[`${path}.backedUp`] = proof.backedUp;
      }
      if (change.usedAt) set[`${path}.lastUsedAt`] = change.usedAt;
    }
    if ('recoveryCodeHash' in proof) update.$pull = { 'recoveryCodes.hashes': proof.recoveryCodeHash };
    if (change.addAuthenticator) {
      set[`authenticators.${authenticatorPath(change.addAuthenticator.authenticatorId)}`] = withoutId(change.addAuthenticator);
    }
    if (change.removeAuthenticatorId) unset[`authenticators.${authenticatorPath(change.removeAuthenticatorId)}`] = '';
    if (change.sessionsRevokedAt) update.$max = { sessionsRevokedAt: change.sessionsRevokedAt };
    if (change.replaceRecoveryCodes) set.recoveryCodes = change.replaceRecoveryCodes;
    Object.assign(update, await this.#pushEvents(userId, change.events ?? []));
    // Device ids here were minted by the service or read back from this document.
    for (const deviceId of change.removeDeviceIds ?? []) unset[`devices.${deviceId}`] = '';
    if (change.addDevice) {
      const { deviceId, ...device } = change.addDevice;
      set[`devices.${deviceId}`] = device;
    }
    if (Object.keys(set).length > 0) update.$set = set;
    update.$unset = unset;
    const after = await mongoCall(() =>
      // No projection: FerretDB's findAndModify does not implement "fields" (see ferretdb/ferretdb.ts).
      this.#factors.findOneAndUpdate(
        ifVersion === undefined ? proofFilter(userId, proof) : { ...proofFilter(userId, proof), ...versionFilter(ifVersion) },
        update as UpdateFilter<FactorDocument>,
        { returnDocument: 'after' },
      ),
    );
    return after === null ? null : { recoveryCodesRemaining: after.recoveryCodes?.hashes.length ?? 0 };
  }

  async spendStep(userId: string, proof: StepProof, usedAt: Date, version: number): Promise<boolean> {
    const path = `authenticators.${authenticatorPath(proof.authenticatorId)}`;
    const result = await mongoCall(() =>
      this.#factors.updateOne(
        { ...proofFilter(userId, proof), ...versionFilter(version) },
        // The login copy's success clears durable failures too, left there by a Redis that lost its own.
        { $set: { [`${path}.lastTimeStep`]: proof.timeStep, [`${path}.lastUsedAt`]: usedAt }, $unset: FAILURE_FIELDS },
      ),
    );
    return result.matchedCount === 1;
  }

  async disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    return this.#turnOff(userId, proofFilter(userId, proof), sessionsRevokedAt, events);
  }

  async reset(userId: string, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    return this.#turnOff(userId, { _id: userId, enabled: true }, sessionsRevokedAt, events);
  }

  async #turnOff(userId: string, filter: Filter<FactorDocument>, sessionsRevokedAt: Date, events: Events): Promise<boolean> {
    const push = await this.#pushEvents(userId, events);
    const result = await mongoCall(() =>
      this.#factors.updateOne(filter, {
        $set: { enabled: false, enabledAt: null, authenticators: {}, recoveryCodes: null, devices: {} },
        $unset: { ...LEGACY_FIELDS, ...FAILURE_FIELDS },
        $max: { sessionsRevokedAt },
        $inc: { version: 1 },
        ...push,
      }),
    );
    return result.matchedCount === 1;
  }

  async renameAuthenticator(userId: string, authenticatorId: string, label: string, events: Events): Promise<AuthenticatorRecord | null> {
    if (!AUTHENTICATOR_ID_PATTERN.test(authenticatorId)) return null;
    const path = `authenticators.${authenticatorId}`;
    const push = await this.#pushEvents(userId, events);
    const after = await mongoCall(() =>
      this.#factors.findOneAndUpdate(
        { _id: userId, enabled: true, [`${path}.label`]: { $exists: true } },
        { $set: { [`${path}.label`]: label }, $inc: { version: 1 }, ...push },
        { returnDocument: 'after' },
      ),
    );
    return after === null ? null : (toRecord(after).authenticators.find((a) => a.authenticatorId === authenticatorId) ?? null);
  }

  async upgrade(userId: string): Promise<void> {
    // Conditional on the version read: a write in between makes it read again.
    for (let tries = 0; tries < 3; tries += 1) {
      const doc = await mongoCall(() => this.#factors.findOne({ _id: userId }));
      if (doc === null || !isLegacy(doc)) return;
      const [legacy] = toRecord(doc).authenticators;
      const result = await mongoCall(() =>
        this.#factors.updateOne(
          { _id: userId, sealedSecret: { $type: 'string' }, ...versionFilter(doc.version ?? 0) },
          { $set: { authenticators: { [LEGACY_AUTHENTICATOR_ID]: withoutId(legacy!) } }, $unset: LEGACY_FIELDS, $inc: { version: 1 } },
        ),
      );
      if (result.matchedCount === 1) return;
    }
    throw new Error('the legacy document kept changing while being upgraded');
  }

  async userHandle(userId: string, proposed: string): Promise<string> {
    // Set only where none is: a concurrent call's handle, once written, is the one every caller reads back.
    await mongoCall(() => this.#factors.updateOne({ _id: userId, webauthnUserHandle: { $exists: false } }, { $set: { webauthnUserHandle: proposed } }));
    const found = await mongoCall(() => this.#factors.findOne({ _id: userId }, { projection: { webauthnUserHandle: 1 } }));
    if (found?.webauthnUserHandle !== undefined) return found.webauthnUserHandle;
    // No document yet: create one (MFA off) holding the handle.
    await this.#upsert(userId, { $set: {} });
    return this.userHandle(userId, proposed);
  }

  async raiseSessionsRevokedAt(userId: string, at: Date, events: Events): Promise<void> {
    await this.#upsert(userId, { $max: { sessionsRevokedAt: at }, $inc: { version: 1 }, ...(await this.#pushEvents(userId, events)) });
  }

  async recordEvents(userId: string, events: Events): Promise<void> {
    // No version step: events change nothing a versioned write depends on.
    if (events.length > 0) await this.#upsert(userId, await this.#pushEvents(userId, events));
  }

  async recordLockout(userId: string, failures: number, events: Events): Promise<void> {
    // No version step: a login on an older copy must still be able to clear the count (spendStep).
    await this.#upsert(userId, { $inc: { failedChecks: failures, lockouts: 1 }, ...(await this.#pushEvents(userId, events)) });
  }

  async suspendTotp(userId: string, at: Date, count: number, events: Events): Promise<boolean> {
    const push = await this.#pushEvents(userId, events);
    const result = await mongoCall(() =>
      this.#factors.updateOne(
        { _id: userId, enabled: true, totpSuspendedAt: { $exists: false } },
        { $set: { totpSuspendedAt: at, failedChecks: count }, $inc: { version: 1 }, ...push },
      ),
    );
    return result.matchedCount === 1;
  }

  /** Applies `update` to the user's document, creating an empty (MFA off) one first when there is none. */
  async #upsert(userId: string, update: UpdateFilter<FactorDocument>): Promise<void> {
    const attempt = () =>
      this.#factors.updateOne(
        { _id: userId },
        { ...update, $setOnInsert: { enabled: false, enabledAt: null, authenticators: {}, recoveryCodes: null, devices: {} } },
        { upsert: true },
      );
    // Two concurrent upserts of a new user: the loser collides on _id, and then the record exists.
    if (await upsertOnce(attempt)) await upsertOnce(attempt);
  }

  async outbox(userId: string): Promise<SecurityEventRecord[]> {
    const found = await mongoCall(() => this.#factors.findOne({ _id: userId }, { projection: { outbox: 1 } }));
    return (found?.outbox ?? []).map((entry) => fromOutboxEntry(userId, entry));
  }

  async outboxes(before: Date, limit: number) {
    // The marked users only (pending-outboxes.ts): a read by _id each, however many users there are.
    const due = await this.#pending.due(before, limit);
    const found = [];
    for (const userId of due) found.push({ userId, events: await this.outbox(userId) });
    return found;
  }

  async settleOutbox(userId: string, now: Date): Promise<void> {
    await this.#pending.settle(userId, now, async () => {
      const found = await mongoCall(() => this.#factors.findOne({ _id: userId }, { projection: { outbox: 1 } }));
      return found?.outbox?.length ?? 0;
    });
  }

  async dropFromOutbox(userId: string, events: Events): Promise<void> {
    // $pullAll matches whole entries, written the same way as when pushed ($pull by a condition
    // on an entry's field is not implemented by FerretDB 1.24).
    if (events.length === 0) return;
    await mongoCall(() => this.#factors.updateOne({ _id: userId }, { $pullAll: { outbox: events.map(toOutboxEntry) } }));
  }

  /**
   * The part of an update that writes `events` to the user's outbox, with the
   * change it is part of; it marks the outbox as pending first (write-ahead:
   * a mark without its events costs the sweep one read, events without a mark
   * would wait for no sweep).
   */
  async #pushEvents(userId: string, events: Events): Promise<{ $push?: { outbox: { $each: OutboxEntry[] } } }> {
    if (events.length === 0) return {};
    await this.#pending.mark(userId, events);
    return { $push: { outbox: { $each: events.map(toOutboxEntry) } } };
  }

  async touchDevice(userId: string, deviceId: string, at: Date): Promise<void> {
    const path = `devices.${deviceId}`;
    await mongoCall(() =>
      this.#factors.updateOne({ _id: userId, [path]: { $exists: true } }, { $set: { [`${path}.lastUsedAt`]: at }, $inc: { version: 1 } }),
    );
  }

  async removeDevice(userId: string, deviceId: string, events: Events): Promise<boolean> {
    // The id becomes a field path: anything but an issued id (a '.', a '$') must never reach one.
    if (!DEVICE_ID_PATTERN.test(deviceId)) return false;
    const path = `devices.${deviceId}`;
    const push = await this.#pushEvents(userId, events);
    const result = await mongoCall(() =>
      this.#factors.updateOne({ _id: userId, [path]: { $exists: true } }, { $unset: { [path]: '' }, $inc: { version: 1 }, ...push }),
    );
    return result.modifiedCount === 1;
  }
}

type Events = readonly SecurityEventRecord[];

/** Runs an upsert; true when it collided on _id (E11000), which the caller may retry once. */
async function upsertOnce(upsert: () => Promise<unknown>): Promise<boolean> {
  try {
    await mongoCall(upsert);
    return false;
  } catch (error) {
    if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return true;
    throw error;
  }
}

/** The query form of isSpendable (domain/proof.ts): matches the user's document only while the proof is unspent. */
function proofFilter(userId: string, proof: CodeProof): Filter<FactorDocument> {
  if ('signCount' in proof) {
    // The conditional counter write (issue 23): of concurrent assertions of one key, one moves it.
    return { _id: userId, enabled: true, [`authenticators.${authenticatorPath(proof.authenticatorId)}.signCount`]: proof.previousSignCount };
  }
  return 'timeStep' in proof
    ? {
        _id: userId,
        enabled: true,
        [`authenticators.${authenticatorPath(proof.authenticatorId)}.lastTimeStep`]: { $lt: proof.timeStep },
        totpSuspendedAt: { $exists: false },
      }
    : { _id: userId, enabled: true, 'recoveryCodes.hashes': proof.recoveryCodeHash };
}

/** Matches the record at `version`; version 0 is a document from before versions, which has none. */
function versionFilter(version: number): Filter<FactorDocument> {
  return version === 0 ? { version: { $in: [0, null] } } as Filter<FactorDocument> : { version };
}

