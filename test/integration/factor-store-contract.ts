import type { TotpAuthenticatorRecord } from '../../src/stores/ports/index.js';
import { expect } from 'chai';
import { authenticator, codes, device, FIRST, newUser, type StoreFixture } from './contract-support.js';
import { securityEvent } from './security-event-log-contract.js';

/** The FactorStore rules every adapter shares, including under concurrent writes. */
export function factorStoreContract(fixture: () => StoreFixture): void {
  describe('durable MFA state (MongoDB)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });

    describe('FactorStore', () => {
      const enableAt = (at: Date, step = 100) => ({
        authenticator: authenticator(FIRST, at, { lastTimeStep: step }),
        enabledAt: at,
        recoveryCodes: codes('k1', 'h1', 'h2', 'h3'),
        sessionsRevokedAt: at,
        events: [],
      });
      /** A TOTP proof of the first authenticator. */
      const step = (timeStep: number, authenticatorId = FIRST) => ({ authenticatorId, timeStep });
      const lastStep = async (user: string, authenticatorId = FIRST) =>
        ((await s.factors.get(user))!.authenticators.find((a) => a.authenticatorId === authenticatorId) as TotpAuthenticatorRecord).lastTimeStep;

      it('returns null for an unknown user', async () => {
        expect(await s.factors.get(newUser())).to.equal(null);
      });

      it('enables once and reports the stored state', async () => {
        const user = newUser();
        const at = new Date(Math.floor(s.clock.now().getTime()));
        expect(await s.factors.enable(user, enableAt(at))).to.equal(true);
        const record = await s.factors.get(user);
        expect(record).to.deep.include({ userId: user, enabled: true, legacy: false });
        expect(record!.authenticators).to.deep.equal([authenticator(FIRST, at, { lastTimeStep: 100 })]);
        expect(record!.enabledAt!.getTime()).to.equal(at.getTime());
        expect(record!.sessionsRevokedAt!.getTime()).to.equal(at.getTime());
        expect(record!.recoveryCodes).to.deep.equal(codes('k1', 'h1', 'h2', 'h3'));
        expect(record!.devices).to.deep.equal([]);
        expect(await s.factors.enable(user, enableAt(at))).to.equal(false);
      });

      it('spends a time step once and only forward', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now(), 100));
        expect(await s.factors.spendProof(user, step(100), {})).to.equal(null);
        expect(await s.factors.spendProof(user, step(101), {})).to.deep.equal({ recoveryCodesRemaining: 3 });
        expect(await s.factors.spendProof(user, step(101), {})).to.equal(null);
        expect(await s.factors.spendProof(user, step(99), {})).to.equal(null);
        expect(await lastStep(user)).to.equal(101);
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
        expect(await s.factors.spendProof(user, step(5), {})).to.equal(null);
        expect(await s.factors.disable(user, step(5), s.clock.now(), [])).to.equal(false);
      });

      it('adds, evicts, touches and removes devices with a proof', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, step(101), { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        await s.factors.spendProof(user, step(102), { addDevice: device('dev_bbbbbbbbbbbbbbbb', now), removeDeviceIds: [] });
        await s.factors.spendProof(user, step(103), { addDevice: device('dev_cccccccccccccccc', now), removeDeviceIds: ['dev_aaaaaaaaaaaaaaaa'] });
        let ids = (await s.factors.get(user))!.devices.map((d) => d.deviceId).sort();
        expect(ids).to.deep.equal(['dev_bbbbbbbbbbbbbbbb', 'dev_cccccccccccccccc']);

        const later = new Date(now.getTime() + 60_000);
        await s.factors.touchDevice(user, 'dev_bbbbbbbbbbbbbbbb', later);
        const touched = (await s.factors.get(user))!.devices.find((d) => d.deviceId === 'dev_bbbbbbbbbbbbbbbb')!;
        expect(touched.lastUsedAt.getTime()).to.equal(later.getTime());
        expect(touched).to.deep.include({ tokenHash: 'hash-of-dev_bbbbbbbbbbbbbbbb', label: 'label dev_b' });

        expect(await s.factors.removeDevice(user, 'dev_bbbbbbbbbbbbbbbb', [])).to.equal(true);
        expect(await s.factors.removeDevice(user, 'dev_bbbbbbbbbbbbbbbb', [])).to.equal(false);
        ids = (await s.factors.get(user))!.devices.map((d) => d.deviceId);
        expect(ids).to.deep.equal(['dev_cccccccccccccccc']);
      });

      it('reads the devices alone, and none while MFA is off', async () => {
        const user = newUser();
        const now = s.clock.now();
        expect(await s.factors.devices(user)).to.equal(null);
        await s.factors.enable(user, enableAt(now));
        expect(await s.factors.devices(user)).to.deep.equal([]);
        await s.factors.spendProof(user, step(101), { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        expect(await s.factors.devices(user)).to.deep.equal((await s.factors.get(user))!.devices);
        expect((await s.factors.devices(user))!.map((d) => d.deviceId)).to.deep.equal(['dev_aaaaaaaaaaaaaaaa']);
        await s.factors.disable(user, step(102), now, []);
        expect(await s.factors.devices(user)).to.equal(null);
      });

      it('lets exactly one of many concurrent spends of the same step or recovery code win', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now(), 100));
        const steps = await Promise.all(Array.from({ length: 20 }, () => s.factors.spendProof(user, step(101), {})));
        expect(steps.filter((r) => r !== null)).to.have.length(1);
        const codesSpent = await Promise.all(Array.from({ length: 10 }, () => s.factors.spendProof(user, { recoveryCodeHash: 'h1' }, {})));
        expect(codesSpent.filter((r) => r !== null)).to.have.length(1);
        expect((await s.factors.get(user))!.recoveryCodes!.hashes).to.deep.equal(['h2', 'h3']);
      });

      it('moves the version on with every write but a plain TOTP login, and applies a write that names a version only to that version', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now(), 100));
        const read = (await s.factors.get(user))!;
        await s.factors.raiseSessionsRevokedAt(user, new Date(s.clock.now().getTime() + 1000), []);
        const moved = (await s.factors.get(user))!;
        expect(moved.version).to.be.greaterThan(read.version);
        expect(await s.factors.spendProof(user, step(101), {}, read.version)).to.equal(null);
        expect(await lastStep(user)).to.equal(100);
        const usedAt = new Date(Math.floor(s.clock.now().getTime()));
        expect(await s.factors.spendProof(user, step(101), { usedAt }, moved.version)).to.deep.equal({ recoveryCodesRemaining: 3 });
        const login = (await s.factors.get(user))!;
        expect(login.version, 'a plain login').to.equal(moved.version);
        expect((login.authenticators[0] as TotpAuthenticatorRecord).lastTimeStep).to.equal(101);
        expect(login.authenticators[0]!.lastUsedAt!.getTime()).to.equal(usedAt.getTime());
        await s.factors.spendProof(user, { recoveryCodeHash: 'h1' }, {});
        const recovered = (await s.factors.get(user))!;
        expect(recovered.version, 'a recovery code').to.be.greaterThan(login.version);
        await s.factors.spendProof(user, step(102), { sessionsRevokedAt: new Date(s.clock.now().getTime() + 2000) });
        expect((await s.factors.get(user))!.version, 'a login with another change').to.be.greaterThan(recovered.version);
      });

      it('spendStep: spends a step only at the version named, once, moving no version, and never when MFA is off', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now(), 100));
        const { version } = (await s.factors.get(user))!;
        const usedAt = new Date(Math.floor(s.clock.now().getTime()));
        expect(await s.factors.spendStep(user, step(101), usedAt, version + 1)).to.equal(false);
        expect(await s.factors.spendStep(user, step(100), usedAt, version)).to.equal(false);
        expect(await s.factors.spendStep(user, step(101, 'aut_0000000000000000'), usedAt, version)).to.equal(false);
        expect(await lastStep(user)).to.equal(100);
        const spent = await Promise.all(Array.from({ length: 10 }, () => s.factors.spendStep(user, step(101), usedAt, version)));
        expect(spent.filter(Boolean)).to.have.length(1);
        const after = (await s.factors.get(user))!;
        expect(after.version).to.equal(version);
        expect(after.authenticators[0]).to.deep.include({ lastTimeStep: 101 });
        expect(after.authenticators[0]!.lastUsedAt!.getTime()).to.equal(usedAt.getTime());
        expect(await s.factors.spendStep(user, step(102), usedAt, version)).to.equal(true);
        await s.factors.reset(user, s.clock.now(), []);
        const off = (await s.factors.get(user))!;
        expect(await s.factors.spendStep(user, step(103), usedAt, off.version)).to.equal(false);
        expect(await s.factors.spendStep(newUser(), step(103), usedAt, 0)).to.equal(false);
      });

      it('keeps replay protection per authenticator, adds and removes authenticators with a proof, and relabels them', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now, 100));
        const second = 'aut_bbbbbbbbbbbbbbbb';
        expect(await s.factors.spendProof(user, step(101), { addAuthenticator: authenticator(second, now, { lastTimeStep: 90 }), usedAt: now })).to.not.equal(null);
        // Step 100 of the second authenticator is fresh; of the first, it is spent.
        expect(await s.factors.spendProof(user, step(100, second), {})).to.not.equal(null);
        expect(await s.factors.spendProof(user, step(100), {})).to.equal(null);
        expect(await s.factors.spendProof(user, step(100, second), {})).to.equal(null);
        expect(await s.factors.spendProof(user, step(1, 'aut_cccccccccccccccc'), {})).to.equal(null);
        let record = (await s.factors.get(user))!;
        expect(record.authenticators.map((a) => a.authenticatorId)).to.deep.equal([FIRST, second]);
        expect(record.authenticators[0]!.lastUsedAt!.getTime()).to.equal(now.getTime());
        expect(record.authenticators[1]!.lastUsedAt).to.equal(null);

        const renamed = await s.factors.renameAuthenticator(user, second, 'Backup phone', []);
        expect(renamed).to.deep.include({ authenticatorId: second, label: 'Backup phone', lastTimeStep: 100 });
        expect(await s.factors.renameAuthenticator(user, 'aut_cccccccccccccccc', 'x', [])).to.equal(null);
        expect(await s.factors.renameAuthenticator(user, 'not.an.id', 'x', [])).to.equal(null);

        const revokedAt = new Date(now.getTime() + 3000);
        // Removing with a code of the authenticator removed.
        expect(await s.factors.spendProof(user, step(102, second), { removeAuthenticatorId: second, sessionsRevokedAt: revokedAt, usedAt: now })).to.not.equal(null);
        record = (await s.factors.get(user))!;
        expect(record.authenticators.map((a) => a.authenticatorId)).to.deep.equal([FIRST]);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(revokedAt.getTime());
      });

      it('keeps every one of many concurrent writes of one user (none lost)', async () => {
        const user = newUser();
        const now = s.clock.now();
        const hashes = Array.from({ length: 8 }, (_, i) => `c${i}`);
        await s.factors.enable(user, { ...enableAt(now), recoveryCodes: codes('k1', ...hashes) });
        const ids = hashes.map((_, i) => `dev_${String(i).repeat(16)}`);
        await Promise.all([
          ...hashes.map((hash, i) => s.factors.spendProof(user, { recoveryCodeHash: hash }, { addDevice: device(ids[i]!, now) })),
          s.factors.raiseSessionsRevokedAt(user, new Date(now.getTime() + 7000), []),
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
          s.factors.disable(user, { recoveryCodeHash: 'h1' }, now, []),
          ...[101, 102, 103].map((n) => s.factors.spendProof(user, step(n), { addDevice: device(`dev_${String(n).padEnd(16, "x")}`, now) })),
        ]);
        expect(disabled).to.equal(true);
        const record = (await s.factors.get(user))!;
        expect(record.enabled).to.equal(false);
        expect(record.authenticators).to.deep.equal([]);
      });

      it('revokes sessions of a new user from many calls at once, keeping the latest', async () => {
        const user = newUser();
        const base = Date.UTC(2026, 6, 1);
        await Promise.all(Array.from({ length: 6 }, (_, i) => s.factors.raiseSessionsRevokedAt(user, new Date(base + i * 1000), [])));
        expect((await s.factors.get(user))!.sessionsRevokedAt!.getTime()).to.equal(base + 5000);
      });

      it('never treats a malformed device id as a field path', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, step(101), { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        expect(await s.factors.removeDevice(user, 'dev_aaaaaaaaaaaaaaaa.expiresAt', [])).to.equal(false);
        expect(await s.factors.removeDevice(user, 'a.', [])).to.equal(false);
        const [kept] = (await s.factors.get(user))!.devices;
        expect(kept!.expiresAt).to.be.instanceOf(Date);
      });

      it('replaces recovery codes with a proof', async () => {
        const user = newUser();
        await s.factors.enable(user, enableAt(s.clock.now()));
        const result = await s.factors.spendProof(user, step(101), { replaceRecoveryCodes: codes('k2', 'n1', 'n2') });
        expect(result).to.deep.equal({ recoveryCodesRemaining: 2 });
        expect((await s.factors.get(user))!.recoveryCodes).to.deep.equal(codes('k2', 'n1', 'n2'));
      });

      it('disables with a proof, forgetting secret, codes and devices, and can enable again', async () => {
        const user = newUser();
        const now = s.clock.now();
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, step(101), { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        const revokedAt = new Date(now.getTime() + 1000);
        expect(await s.factors.disable(user, { recoveryCodeHash: 'h1' }, revokedAt, [])).to.equal(true);
        const record = (await s.factors.get(user))!;
        expect(record).to.deep.include({ enabled: false, enabledAt: null, authenticators: [], recoveryCodes: null });
        expect(record.devices).to.deep.equal([]);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(revokedAt.getTime());
        expect(await s.factors.disable(user, step(500), revokedAt, [])).to.equal(false);
        expect(await s.factors.enable(user, enableAt(now, 200))).to.equal(true);
        expect(await lastStep(user)).to.equal(200);
      });

      it('resets MFA without a proof, and only when it is on', async () => {
        const user = newUser();
        const now = s.clock.now();
        expect(await s.factors.reset(user, now, [])).to.equal(false);
        await s.factors.enable(user, enableAt(now));
        await s.factors.spendProof(user, step(101), { addDevice: device('dev_aaaaaaaaaaaaaaaa', now) });
        const revokedAt = new Date(now.getTime() + 5000);
        expect(await s.factors.reset(user, revokedAt, [])).to.equal(true);
        const record = (await s.factors.get(user))!;
        expect(record).to.deep.include({ enabled: false, authenticators: [], recoveryCodes: null });
        expect(record.devices).to.deep.equal([]);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(revokedAt.getTime());
        expect(await s.factors.reset(user, revokedAt, [])).to.equal(false);
      });

      it('only moves sessionsRevokedAt forward, creating the record when needed', async () => {
        const user = newUser();
        const t1 = new Date(Date.UTC(2026, 5, 1));
        const t0 = new Date(Date.UTC(2026, 4, 1));
        await s.factors.raiseSessionsRevokedAt(user, t1, []);
        await s.factors.raiseSessionsRevokedAt(user, t0, []);
        const record = (await s.factors.get(user))!;
        expect(record.enabled).to.equal(false);
        expect(record.sessionsRevokedAt!.getTime()).to.equal(t1.getTime());
        expect(await s.factors.enable(user, enableAt(t0))).to.equal(true);
        expect((await s.factors.get(user))!.sessionsRevokedAt!.getTime()).to.equal(t1.getTime());
      });

      describe('durable failures (issue 22)', () => {
        const none = { count: 0, lockouts: 0, totpSuspendedAt: null };
        const ms = (d: Date) => new Date(Math.floor(d.getTime()));

        it('adds each lockout\'s count and one lockout in a row with its events, moving no version, creating the record when needed', async () => {
          const user = newUser();
          await s.factors.enable(user, enableAt(s.clock.now()));
          const { version } = (await s.factors.get(user))!;
          await s.factors.recordLockout(user, 5, [securityEvent(user, 1, { type: 'LOCKED_OUT', failedAttempts: 5 })]);
          await Promise.all([s.factors.recordLockout(user, 5, []), s.factors.recordLockout(user, 5, [])]);
          const after = (await s.factors.get(user))!;
          expect(after.failures).to.deep.equal({ count: 15, lockouts: 3, totpSuspendedAt: null });
          expect(after.version).to.equal(version);
          expect((await s.factors.outbox(user)).map((e) => e.type)).to.deep.equal(['LOCKED_OUT']);
          const fresh = newUser();
          await s.factors.recordLockout(fresh, 2, []);
          expect(await s.factors.get(fresh)).to.deep.include({ enabled: false, failures: { count: 2, lockouts: 1, totpSuspendedAt: null } });
          expect(await s.factors.get(newUser())).to.equal(null);
        });

        it('suspends TOTP once, only while MFA is on, moving the version; no step is spendable then, a recovery code restores it', async () => {
          const user = newUser();
          const at = ms(s.clock.now());
          await s.factors.enable(user, enableAt(at, 100));
          await s.factors.recordLockout(user, 4, []);
          const { version } = (await s.factors.get(user))!;
          expect(await s.factors.suspendTotp(user, at, 6, [securityEvent(user, 1, { type: 'TOTP_SUSPENDED', failedAttempts: 6 })])).to.equal(true);
          expect(await s.factors.suspendTotp(user, at, 7, [])).to.equal(false);
          const suspended = (await s.factors.get(user))!;
          expect(suspended.version).to.be.greaterThan(version);
          expect(suspended.failures.count).to.equal(6);
          expect(suspended.failures.lockouts).to.equal(1);
          expect(suspended.failures.totpSuspendedAt!.getTime()).to.equal(at.getTime());
          expect(await s.factors.spendProof(user, step(101), {})).to.equal(null);
          expect(await s.factors.spendStep(user, step(101), at, suspended.version)).to.equal(false);
          expect(await s.factors.spendProof(user, { recoveryCodeHash: 'h1' }, {})).to.deep.equal({ recoveryCodesRemaining: 2 });
          expect((await s.factors.get(user))!.failures).to.deep.equal(none);
          expect(await s.factors.spendProof(user, step(101), {})).to.deep.equal({ recoveryCodesRemaining: 2 });
          expect(await s.factors.suspendTotp(newUser(), at, 6, [])).to.equal(false);
          expect((await s.factors.outbox(user)).map((e) => e.type)).to.deep.equal(['TOTP_SUSPENDED']);
        });

        it('clears them with every spend (spendProof, spendStep) and with enable, disable and reset', async () => {
          const user = newUser();
          const at = ms(s.clock.now());
          await s.factors.enable(user, enableAt(at, 100));
          const failing = async () => {
            await s.factors.recordLockout(user, 3, []);
            expect((await s.factors.get(user))!.failures).to.deep.include({ count: 3, lockouts: 1 });
          };
          await failing();
          await s.factors.spendProof(user, step(101), { usedAt: at });
          expect((await s.factors.get(user))!.failures).to.deep.equal(none);
          await failing();
          expect(await s.factors.spendStep(user, step(102), at, (await s.factors.get(user))!.version)).to.equal(true);
          expect((await s.factors.get(user))!.failures).to.deep.equal(none);
          await failing();
          await s.factors.suspendTotp(user, at, 5, []);
          expect(await s.factors.reset(user, at, [])).to.equal(true);
          expect((await s.factors.get(user))!.failures).to.deep.equal(none);
          await s.factors.recordLockout(user, 3, []);
          expect(await s.factors.enable(user, enableAt(at, 200))).to.equal(true);
          expect((await s.factors.get(user))!.failures).to.deep.equal(none);
          await failing();
          expect(await s.factors.disable(user, { recoveryCodeHash: 'h3' }, at, [])).to.equal(true);
          expect((await s.factors.get(user))!.failures).to.deep.equal(none);
        });
      });

      describe('the outbox of security events', () => {
        it('holds the events of each write that applied, in commit order, and none of a write that did not', async () => {
          const user = newUser();
          const at = new Date(Math.floor(s.clock.now().getTime()));
          const [enabled, renamed, refused, revoked] = [
            securityEvent(user, 1, { type: 'MFA_ENABLED', authenticatorId: FIRST }),
            securityEvent(user, 2, { type: 'AUTHENTICATOR_RENAMED', authenticatorId: FIRST }),
            securityEvent(user, 3, { type: 'MFA_DISABLED' }),
            securityEvent(user, 4, { recoveryCodesRemaining: 0, failedAttempts: 3, reason: 'lost phone' }),
          ];
          expect(await s.factors.enable(user, { ...enableAt(at), events: [enabled!] })).to.equal(true);
          await s.factors.renameAuthenticator(user, FIRST, 'Phone', [renamed!]);
          expect(await s.factors.disable(user, step(1), at, [refused!])).to.equal(false);
          await s.factors.raiseSessionsRevokedAt(user, at, [revoked!]);
          expect(await s.factors.outbox(user)).to.deep.equal([enabled, renamed, revoked]);
        });

        it('takes out exactly the events relayed, keeping those written since', async () => {
          const user = newUser();
          const at = new Date(Math.floor(s.clock.now().getTime()));
          const first = [securityEvent(user, 1), securityEvent(user, 2, { type: 'DEVICE_FORGOTTEN', deviceId: 'dev_aaaaaaaaaaaaaaaa' })];
          await s.factors.raiseSessionsRevokedAt(user, at, first);
          const relayed = await s.factors.outbox(user);
          const later = securityEvent(user, 3);
          await s.factors.raiseSessionsRevokedAt(user, at, [later]);
          await s.factors.dropFromOutbox(user, relayed);
          expect(await s.factors.outbox(user)).to.deep.equal([later]);
          await s.factors.dropFromOutbox(user, relayed);
          expect(await s.factors.outbox(user)).to.deep.equal([later]);
        });

        it('records events alone without moving the version (a lockout changes nothing a versioned write depends on)', async () => {
          const user = newUser();
          const at = new Date(Math.floor(s.clock.now().getTime()));
          const locked = securityEvent(user, 1, { type: 'LOCKED_OUT', failedAttempts: 5 });
          await s.factors.recordEvents(user, [locked]);
          expect(await s.factors.get(user)).to.deep.include({ enabled: false, version: 0 });
          expect(await s.factors.enable(user, { ...enableAt(at), ifVersion: 0 })).to.equal(true);
          const version = (await s.factors.get(user))!.version;
          await s.factors.recordEvents(user, [securityEvent(user, 2, { type: 'LOCKED_OUT', failedAttempts: 5 })]);
          expect((await s.factors.get(user))!.version).to.equal(version);
          expect((await s.factors.outbox(user)).map((e) => e.type)).to.deep.equal(['LOCKED_OUT', 'LOCKED_OUT']);
        });

        it('lists the users whose outbox holds an event older than a time', async () => {
          const [user, recent] = [newUser(), newUser()];
          const at = new Date(Math.floor(s.clock.now().getTime()));
          await s.factors.raiseSessionsRevokedAt(user, at, [securityEvent(user, -1000)]);
          await s.factors.raiseSessionsRevokedAt(recent, at, [securityEvent(recent, 10 * 365 * 86_400_000)]);
          const found = await s.factors.outboxes(new Date(Date.UTC(2026, 0, 1)), 1000);
          expect(found.map((f) => f.userId)).to.include(user).and.not.include(recent);
          expect(found.find((f) => f.userId === user)!.events).to.deep.equal(await s.factors.outbox(user));
        });

        it('keeps every event of concurrent writes to one user', async () => {
          const user = newUser();
          const at = new Date(Math.floor(s.clock.now().getTime()));
          const events = Array.from({ length: 8 }, (_, i) => securityEvent(user, i));
          await Promise.all(events.map((event, i) => (i % 2 === 0 ? s.factors.raiseSessionsRevokedAt(user, at, [event]) : s.factors.recordEvents(user, [event]))));
          expect((await s.factors.outbox(user)).map((e) => e.eventId).sort()).to.deep.equal(events.map((e) => e.eventId).sort());
        });
      });
    });

  });
}
