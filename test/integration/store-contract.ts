import { expect } from 'chai';
import type { RecoveryCodeSet } from '../../src/domain/recovery-codes.js';
import type {
  AttemptStore,
  AuditEventRecord,
  AuditLog,
  DeviceRecord,
  FactorStore,
  PendingEnrollmentStore,
  RevocationCache,
} from '../../src/stores/ports.js';
import type { FakeClock, OffsetClock } from '../support/fake-clock.js';

/** What one adapter family under test provides; each `it` gets fresh user ids, so stores may be shared. */
export interface StoreFixture {
  factors: FactorStore;
  pending: PendingEnrollmentStore;
  attempts: AttemptStore;
  revocations: RevocationCache;
  auditLog: AuditLog;
  clock: FakeClock | OffsetClock;
  /** Waits until real-time TTLs (Redis) have passed `ms`; for fake-clock stores, advances the clock. */
  elapse(ms: number): Promise<void>;
}

let counter = 0;
function newUser(): string {
  counter += 1;
  return `contract-user-${process.pid}-${Date.now()}-${counter}`;
}

const codes = (keyId: string, ...hashes: string[]): RecoveryCodeSet => ({ keyId, hashes });

function device(id: string, at: Date, overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    deviceId: id,
    tokenHash: `hash-of-${id}`,
    label: `label ${id.slice(0, 5)}`,
    createdAt: at,
    lastUsedAt: at,
    expiresAt: new Date(at.getTime() + 86_400_000),
    ...overrides,
  };
}

/**
 * The behaviour every store adapter must share. Runs against the in-memory
 * stores and against Redis + a MongoDB-compatible server, so the embedded
 * default cannot drift from the real thing.
 */
export function storeContract(name: string, setup: () => StoreFixture): void {
  describe(`store contract: ${name}`, () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = setup();
    });

    describe('FactorStore', () => {
      const enableAt = (at: Date, step = 100) => ({
        sealedSecret: 'sealed',
        enabledAt: at,
        timeStep: step,
        recoveryCodes: codes('k1', 'h1', 'h2', 'h3'),
        sessionsRevokedAt: at,
      });

      it('returns null for an unknown user', async () => {
        expect(await s.factors.get(newUser())).to.equal(null);
      });

      it('enables once and reports the stored state', async () => {
        const user = newUser();
        const at = new Date(Math.floor(s.clock.now().getTime()));
        expect(await s.factors.enable(user, enableAt(at))).to.equal(true);
        const record = await s.factors.get(user);
        expect(record).to.deep.include({ userId: user, enabled: true, sealedSecret: 'sealed', lastTimeStep: 100 });
        expect(record!.enabledAt!.getTime()).to.equal(at.getTime());
        expect(record!.sessionsRevokedAt!.getTime()).to.equal(at.getTime());
        expect(record!.recoveryCodes).to.deep.equal(codes('k1', 'h1', 'h2', 'h3'));
        expect(record!.devices).to.deep.equal([]);
        expect(await s.factors.enable(user, enableAt(at))).to.equal(false);
      });

      it('spends a time step once and only forward', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now(), 100));
        expect(await s.factors.spendProof(user, { timeStep: 100 }, {})).to.equal(null);
        expect(await s.factors.spendProof(user, { timeStep: 101 }, {})).to.deep.equal({ recoveryCodesRemaining: 3 });
        expect(await s.factors.spendProof(user, { timeStep: 101 }, {})).to.equal(null);
        expect(await s.factors.spendProof(user, { timeStep: 99 }, {})).to.equal(null);
        expect((await s.factors.get(user))!.lastTimeStep).to.equal(101);
      });

      it('spends each recovery code once and counts what is left', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now()));
        expect(await s.factors.spendProof(user, { recoveryCodeHash: 'h2' }, {})).to.deep.equal({ recoveryCodesRemaining: 2 });
        expect(await s.factors.spendProof(user, { recoveryCodeHash: 'h2' }, {})).to.equal(null);
        expect(await s.factors.spendProof(user, { recoveryCodeHash: 'nope' }, {})).to.equal(null);
        expect((await s.factors.get(user))!.recoveryCodes!.hashes).to.deep.equal(['h1', 'h3']);
      });

      it('refuses proofs when MFA is off', async () => {
        const user = newUser();
        expect(await s.factors.spendProof(user, { timeStep: 5 }, {})).to.equal(null);
        expect(await s.factors.disable(user, { timeStep: 5 }, s.clock.now())).to.equal(false);
      });

      it('adds, evicts, touches and removes devices with a proof', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, { timeStep: 101 }, { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        await s.factors.spendProof(user, { timeStep: 102 }, { addDevice: device('dev_bbbbbbbbbbbbbbbb', now), removeDeviceIds: [] });
        await s.factors.spendProof(user, { timeStep: 103 }, { addDevice: device('dev_cccccccccccccccc', now), removeDeviceIds: ['dev_aaaaaaaaaaaaaaaa'] });
        let ids = (await s.factors.get(user))!.devices.map((d) => d.deviceId).sort();
        expect(ids).to.deep.equal(['dev_bbbbbbbbbbbbbbbb', 'dev_cccccccccccccccc']);

        const later = new Date(now.getTime() + 60_000);
        await s.factors.touchDevice(user, 'dev_bbbbbbbbbbbbbbbb', later);
        const touched = (await s.factors.get(user))!.devices.find((d) => d.deviceId === 'dev_bbbbbbbbbbbbbbbb')!;
        expect(touched.lastUsedAt.getTime()).to.equal(later.getTime());
        expect(touched).to.deep.include({ tokenHash: 'hash-of-dev_bbbbbbbbbbbbbbbb', label: 'label dev_b' });

        expect(await s.factors.removeDevice(user, 'dev_bbbbbbbbbbbbbbbb')).to.equal(true);
        expect(await s.factors.removeDevice(user, 'dev_bbbbbbbbbbbbbbbb')).to.equal(false);
        ids = (await s.factors.get(user))!.devices.map((d) => d.deviceId);
        expect(ids).to.deep.equal(['dev_cccccccccccccccc']);
      });

      it('keeps every one of many concurrent writes of one user (none lost)', async () => {
        const user = newUser();
        const now = s.clock.now();
        const hashes = Array.from({ length: 8 }, (_, i) => `c${i}`);
        await s.factors.enable(user, { ...enableAt(now), recoveryCodes: codes('k1', ...hashes) });
        const ids = hashes.map((_, i) => `dev_${String(i).repeat(16)}`);
        await Promise.all([
          ...hashes.map((hash, i) => s.factors.spendProof(user, { recoveryCodeHash: hash }, { addDevice: device(ids[i]!, now) })),
          s.factors.raiseSessionsRevokedAt(user, new Date(now.getTime() + 7000)),
        ]);
        const record = (await s.factors.get(user))!;
        expect(record.devices.map((d) => d.deviceId).sort()).to.deep.equal(ids);
        expect(record.recoveryCodes!.hashes).to.deep.equal([]);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(now.getTime() + 7000);
      });

      it('ends disabled when a disable races other writes', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now, 100));
        const [disabled] = await Promise.all([
          s.factors.disable(user, { recoveryCodeHash: 'h1' }, now),
          ...[101, 102, 103].map((step) => s.factors.spendProof(user, { timeStep: step }, { addDevice: device(`dev_${String(step).padEnd(16, 'x')}`, now) })),
        ]);
        expect(disabled).to.equal(true);
        const record = (await s.factors.get(user))!;
        expect(record.enabled).to.equal(false);
        expect(record.sealedSecret).to.equal(null);
      });

      it('revokes sessions of a new user from many calls at once, keeping the latest', async () => {
        const user = newUser();
        const base = Date.UTC(2026, 6, 1);
        await Promise.all(Array.from({ length: 6 }, (_, i) => s.factors.raiseSessionsRevokedAt(user, new Date(base + i * 1000))));
        expect((await s.factors.get(user))!.sessionsRevokedAt!.getTime()).to.equal(base + 5000);
      });

      it('never treats a malformed device id as a field path', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, { timeStep: 101 }, { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        expect(await s.factors.removeDevice(user, 'dev_aaaaaaaaaaaaaaaa.expiresAt')).to.equal(false);
        expect(await s.factors.removeDevice(user, 'a.')).to.equal(false);
        const [kept] = (await s.factors.get(user))!.devices;
        expect(kept!.expiresAt).to.be.instanceOf(Date);
      });

      it('replaces recovery codes with a proof', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now()));
        const result = await s.factors.spendProof(user, { timeStep: 101 }, { replaceRecoveryCodes: codes('k2', 'n1', 'n2') });
        expect(result).to.deep.equal({ recoveryCodesRemaining: 2 });
        expect((await s.factors.get(user))!.recoveryCodes).to.deep.equal(codes('k2', 'n1', 'n2'));
      });

      it('disables with a proof, forgetting secret, codes and devices, and can enable again', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, { timeStep: 101 }, { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        const revokedAt = new Date(now.getTime() + 1000);
        expect(await s.factors.disable(user, { recoveryCodeHash: 'h1' }, revokedAt)).to.equal(true);
        const record = (await s.factors.get(user))!;
        expect(record).to.deep.include({ enabled: false, enabledAt: null, sealedSecret: null, recoveryCodes: null });
        expect(record.devices).to.deep.equal([]);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(revokedAt.getTime());
        expect(await s.factors.disable(user, { timeStep: 500 }, revokedAt)).to.equal(false);
        expect(await s.factors.enable(user, enableAt(now, 200))).to.equal(true);
        expect((await s.factors.get(user))!.lastTimeStep).to.equal(200);
      });

      it('resets MFA without a proof, and only when it is on', async () => {
        const user = newUser();
        const now = s.clock.now();
        expect(await s.factors.reset(user, now)).to.equal(false);
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, { timeStep: 101 }, { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        const revokedAt = new Date(now.getTime() + 5000);
        expect(await s.factors.reset(user, revokedAt)).to.equal(true);
        const record = (await s.factors.get(user))!;
        expect(record).to.deep.include({ enabled: false, sealedSecret: null, recoveryCodes: null });
        expect(record.devices).to.deep.equal([]);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(revokedAt.getTime());
        expect(await s.factors.reset(user, revokedAt)).to.equal(false);
      });

      it('only moves sessionsRevokedAt forward, creating the record when needed', async () => {
        const user = newUser();
        const t1 = new Date(Date.UTC(2026, 5, 1));
        const t0 = new Date(Date.UTC(2026, 4, 1));
        await s.factors.raiseSessionsRevokedAt(user, t1);
        await s.factors.raiseSessionsRevokedAt(user, t0);
        const record = (await s.factors.get(user))!;
        expect(record.enabled).to.equal(false);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(t1.getTime());
        expect(await s.factors.enable(user, enableAt(t0))).to.equal(true);
        expect((await s.factors.get(user))!.sessionsRevokedAt!.getTime()).to.equal(t1.getTime());
      });
    });

    describe('PendingEnrollmentStore', () => {
      const pendingFor = (user: string, id: string, ttlMs: number) => ({
        enrollmentId: id,
        userId: user,
        sealedSecret: 'sealed',
        expiresAt: new Date(s.clock.now().getTime() + ttlMs),
      });

      it('stores, replaces and removes by id', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 60_000));
        expect((await s.pending.get(user))!.enrollmentId).to.equal('enr_1');
        await s.pending.put(pendingFor(user, 'enr_2', 60_000));
        const found = (await s.pending.get(user))!;
        expect(found).to.deep.include({ enrollmentId: 'enr_2', userId: user, sealedSecret: 'sealed' });
        expect(await s.pending.remove(user, 'enr_1')).to.equal(false);
        expect(await s.pending.remove(user, 'enr_2')).to.equal(true);
        expect(await s.pending.get(user)).to.equal(null);
      });

      it('forgets an enrollment once it expires', async () => {
        const user = newUser();
        await s.pending.put(pendingFor(user, 'enr_1', 300));
        expect(await s.pending.get(user)).to.not.equal(null);
        await s.elapse(400);
        expect(await s.pending.get(user)).to.equal(null);
        expect(await s.pending.remove(user, 'enr_1')).to.equal(false);
      });
    });

    describe('AttemptStore', () => {
      const policy = { maxFailures: 3, lockoutMs: 400 };
      let step = 1000;
      const fresh = () => ({ timeStep: (step += 1) });

      it('locks after maxFailures consecutive failures and refuses even a passed check while locked', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, null, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: false });
        expect(await s.attempts.settle(user, null, policy)).to.deep.equal({ kind: 'rejected', failures: 2, reused: false });
        const locked = await s.attempts.settle(user, null, policy);
        expect(locked.kind).to.equal('locked');
        expect((await s.attempts.settle(user, fresh(), policy)).kind).to.equal('locked');
        const left = await s.attempts.lockoutRemainingMs(user);
        expect(left).to.be.greaterThan(0).and.at.most(400);
        expect(await s.attempts.lockoutRemainingMs(newUser())).to.equal(0);
        await s.elapse(500);
        expect(await s.attempts.lockoutRemainingMs(user)).to.equal(0);
        expect(await s.attempts.settle(user, fresh(), policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('resets the count on a passed check', async () => {
        const user = newUser();
        await s.attempts.settle(user, null, policy);
        await s.attempts.settle(user, null, policy);
        expect(await s.attempts.settle(user, fresh(), policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, null, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: false });
      });

      it('claims a TOTP step only when it is newer than every claimed one, counting a replay as a failure', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: true });
        expect(await s.attempts.settle(user, { timeStep: 49 }, policy)).to.deep.equal({ kind: 'rejected', failures: 2, reused: true });
        expect(await s.attempts.settle(user, { timeStep: 51 }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(newUser(), { timeStep: 50 }, policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('starts the step claims afresh for the first step of a new secret', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 50, firstStep: true }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 50 }, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: true });
        expect(await s.attempts.settle(user, { timeStep: 40, firstStep: true }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { timeStep: 41 }, policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('claims a recovery code hash once', async () => {
        const user = newUser();
        expect(await s.attempts.settle(user, { recoveryCodeHash: 'h1' }, policy)).to.deep.equal({ kind: 'accepted' });
        expect(await s.attempts.settle(user, { recoveryCodeHash: 'h1' }, policy)).to.deep.equal({ kind: 'rejected', failures: 1, reused: true });
        expect(await s.attempts.settle(user, { recoveryCodeHash: 'h2' }, policy)).to.deep.equal({ kind: 'accepted' });
      });

      it('lets exactly one of many concurrent claims of the same step win', async () => {
        const user = newUser();
        const lenient = { maxFailures: 100, lockoutMs: 10_000 };
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => s.attempts.settle(user, { timeStep: 7 }, lenient)));
        expect(outcomes.filter((o) => o.kind === 'accepted')).to.have.length(1);
      });

      it('counts concurrent failures exactly', async () => {
        const user = newUser();
        const lenient = { maxFailures: 100, lockoutMs: 10_000 };
        await Promise.all(Array.from({ length: 10 }, () => s.attempts.settle(user, null, lenient)));
        expect(await s.attempts.settle(user, null, lenient)).to.deep.equal({ kind: 'rejected', failures: 11, reused: false });
      });
    });

    describe('AuditLog', () => {
      const event = (user: string, id: string, ms: number): AuditEventRecord => ({
        eventId: id,
        occurredAt: new Date(Date.UTC(2026, 0, 1) + ms),
        userId: user,
        event: 'test.event',
        outcome: 'success',
        caller: 'login-service',
        requestId: `req-${id}`,
        detail: `detail ${id}`,
      });

      it('lists a user\'s events newest first, page by page after a cursor, ties broken by id', async () => {
        const user = newUser();
        const events = [event(user, 'evt_a', 1000), event(user, 'evt_b', 3000), event(user, 'evt_c', 2000), event(user, 'evt_d', 2000)];
        for (const e of events) await s.auditLog.record(e);
        await s.auditLog.record(event(newUser(), 'evt_other', 5000));

        const first = await s.auditLog.list(user, 2, null);
        expect(first.map((e) => e.eventId)).to.deep.equal(['evt_b', 'evt_d']);
        expect(first[0]).to.deep.equal(events[1]);
        const last = first[1]!;
        const second = await s.auditLog.list(user, 2, { occurredAt: last.occurredAt, eventId: last.eventId });
        expect(second.map((e) => e.eventId)).to.deep.equal(['evt_c', 'evt_a']);
        expect(await s.auditLog.list(user, 2, { occurredAt: second[1]!.occurredAt, eventId: 'evt_a' })).to.deep.equal([]);
      });
    });

    describe('RevocationCache', () => {
      it('misses, caches "never", and only moves forward', async () => {
        const user = newUser();
        expect(await s.revocations.get(user)).to.equal(undefined);
        await s.revocations.raise(user, null);
        expect(await s.revocations.get(user)).to.equal(null);
        const t1 = new Date(Date.UTC(2026, 5, 1));
        await s.revocations.raise(user, t1);
        await s.revocations.raise(user, new Date(Date.UTC(2026, 4, 1)));
        await s.revocations.raise(user, null);
        expect((await s.revocations.get(user))!.getTime()).to.equal(t1.getTime());
      });

      it('keeps users apart, even with braces and colons in their ids', async () => {
        const a = `${newUser()}}:x{`;
        const b = `${a}}`;
        await s.revocations.raise(a, new Date(1000));
        expect(await s.revocations.get(b)).to.equal(undefined);
      });
    });
  });
}
