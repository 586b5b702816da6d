import type { Clock } from '../../domain/clock.js';
import type { RecoveryCodes } from '../../domain/recovery-codes.js';
import type { CodeProof, FactorRecord, FactorStore, PendingEnrollmentStore, LoginCopyStore } from '../../stores/ports/index.js';
import { totpState, type CheckResult, type CodeChecks, type CodeOrAssertion } from '../code-checks/code-checks.js';
import type { AssertionInput, PassedAssertion } from '../webauthn/assertion-checks.js';
import { isTotp } from '../../stores/ports/index.js';
import type { DeviceService } from '../devices/device-service.js';
import { enabledRecordForWrite } from '../code-checks/enabled-record.js';
import { spendOnCurrent } from '../code-checks/spend-on-current.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import type { SessionService } from '../sessions/session-service.js';

export interface RememberRequest {
  readonly rememberDevice: boolean;
  readonly deviceLabel: string;
}

export interface Verified {
  readonly verifiedAt: Date;
  /** The authenticator whose code was accepted; null for a recovery code. */
  readonly authenticatorId: string | null;
  readonly device: { readonly token: string; readonly expiresAt: Date } | null;
  readonly recoveryCodesRemaining: number;
}

/** A security key's assertion accepted at login. */
export interface VerifiedWebAuthn extends Verified {
  readonly authenticatorId: string;
  /** The key verified the user (a PIN, a fingerprint), not only their presence. */
  readonly userVerified: boolean;
  /** The credential is backed up (a synced passkey). */
  readonly backedUp: boolean;
}

/**
 * Every use of an enabled factor: login with a TOTP or recovery code, turning
 * MFA off, and regenerating recovery codes. Each goes through CodeChecks:
 * the lockout gate, then one durable write that spends the code.
 */
export class VerificationService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly codeChecks: CodeChecks;
      readonly sessions: SessionService;
      readonly devices: DeviceService;
      readonly recoveryCodes: RecoveryCodes;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
      /** VerifyTotp's copies (MFA_TOTP_COPY_SECONDS); null: none. */
      readonly loginCopies: LoginCopyStore | null;
    },
  ) {}

  async verifyTotp(request: { userId: string; code: string } & RememberRequest): Promise<Verified> {
    if (!request.rememberDevice) {
      const verified = await this.#verifyOnCopy(request.userId, request.code);
      if (verified !== null) return verified;
    }
    return this.#verify(request.userId, (record, now) => this.deps.codeChecks.totp(totpState(record), request.code, now), request, true);
  }

  /**
   * A plain login on the user's Redis copy (LoginCopy), with no MongoDB read:
   * the code is checked on the copy, and spent by one conditional update
   * that names the copy's version, so a copy that is behind the record makes
   * the write miss, whatever it missed (MFA turned off, an authenticator
   * removed, a step spent since). It leaves the lockout count alone
   * (CodeChecks.spendUncounted). Null when it cannot decide: no copy, a code
   * the copy does not accept, a failure counted, or a missed write; the
   * login then goes the durable way, which answers and counts.
   */
  async #verifyOnCopy(userId: string, code: string): Promise<Verified | null> {
    const { loginCopies, codeChecks, factors } = this.deps;
    if (loginCopies === null) return null;
    const copy = await loginCopies.get(userId);
    if (copy === null) return null;
    const now = this.deps.clock.now();
    const check = codeChecks.totp({ ...copy, enabled: true }, code, now);
    const spent = await codeChecks.spendUncounted(userId, check, async (proof) =>
      (await factors.spendStep(userId, proof, now, copy.version)) ? proof : null,
    );
    if (spent === null) return null;
    return { verifiedAt: now, authenticatorId: spent.authenticatorId, device: null, recoveryCodesRemaining: copy.recoveryCodesRemaining };
  }

  /**
   * Takes the copy a plain login reads next time; a failure to keep it fails
   * nothing. While TOTP is suspended the copy holds no authenticator, so that
   * no code is checked on it: a right code would otherwise cost a write that
   * misses, and a wrong one none, a difference in time an attacker could
   * measure without limit (TOTP_SUSPENDED counts nothing).
   */
  async #keepCopy(record: FactorRecord): Promise<void> {
    const { loginCopies } = this.deps;
    if (loginCopies === null || record.legacy) return;
    const suspended = (record.failures?.totpSuspendedAt ?? null) !== null;
    const copy = {
      userId: record.userId,
      version: record.version,
      authenticators: suspended
        ? []
        : record.authenticators.filter(isTotp).map(({ authenticatorId, sealedSecret, lastTimeStep }) => ({ authenticatorId, sealedSecret, lastTimeStep })),
      recoveryCodesRemaining: record.recoveryCodes?.hashes.length ?? 0,
    };
    await loginCopies.put(copy).catch(() => {});
  }

  async verifyRecoveryCode(request: { userId: string; recoveryCode: string } & RememberRequest): Promise<Verified> {
    return this.#verify(request.userId, (record) => this.deps.codeChecks.recoveryCode(record, request.recoveryCode), request);
  }

  /**
   * A security key's assertion at login (VerifyWebAuthn): like a recovery
   * code, a pass ends a run of failures and restores suspended TOTP. Says
   * what an assertion of it needs later: the key, user verification, backup.
   */
  async verifyWebAuthn(request: { userId: string; assertion: AssertionInput } & RememberRequest): Promise<VerifiedWebAuthn> {
    let passed: PassedAssertion | null = null;
    const verified = await this.#verify(
      request.userId,
      async (record) => {
        const check = await this.deps.codeChecks.assertion(record, request.assertion);
        if (!('failure' in check)) passed = check;
        return check;
      },
      request,
    );
    const { userVerified, backedUp } = passed!;
    return { ...verified, authenticatorId: verified.authenticatorId!, userVerified, backedUp };
  }

  /** Turns MFA off with a TOTP code (6 digits), a recovery code, or a security key's assertion. */
  async disable(request: { userId: string } & CodeOrAssertion): Promise<{ disabledAt: Date }> {
    const { userId } = request;
    const record = await enabledRecordForWrite(this.deps.factors, userId);
    const now = this.deps.clock.now();
    const { codeChecks } = this.deps;
    const check = await codeChecks.given(record, request, now);
    await codeChecks.spend(record, check, async (proof) => {
      // First, so that a retried Confirm can never turn MFA back on with the old secret and codes.
      await this.deps.pending.clear(userId);
      // The cache half of the revocation first: a failure in between errs on the side of logging out.
      await this.deps.sessions.announce(userId, now);
      return (await this.deps.factors.disable(userId, proof, now, [this.deps.events.make(userId, 'MFA_DISABLED')])) || null;
    });
    return { disabledAt: now };
  }

  async regenerateRecoveryCodes(request: { userId: string } & CodeOrAssertion): Promise<string[]> {
    const { userId } = request;
    const record = await enabledRecordForWrite(this.deps.factors, userId);
    const now = this.deps.clock.now();
    const check = await this.deps.codeChecks.given(record, request, now, true);
    const issued = this.deps.recoveryCodes.issue(userId);
    const change = {
      replaceRecoveryCodes: issued.set,
      usedAt: now,
      events: [this.deps.events.make(userId, 'RECOVERY_CODES_REGENERATED', { recoveryCodesRemaining: issued.codes.length })],
    };
    await this.deps.codeChecks.spend(record, check, (proof) =>
      // A security key's spend may restore suspended TOTP: spendOnCurrent says so in the same write (TOTP_RESTORED).
      'signCount' in proof ? spendOnCurrent(this.deps, proof, record, () => ({ change, result: null })) : this.deps.factors.spendProof(userId, proof, change),
    );
    return issued.codes;
  }

  async #verify(
    userId: string,
    check: (record: FactorRecord, now: Date) => CheckResult | Promise<CheckResult>,
    remember: RememberRequest,
    keepCopy = false,
  ): Promise<Verified> {
    const record = await enabledRecordForWrite(this.deps.factors, userId);
    if (keepCopy) await this.#keepCopy(record);
    const now = this.deps.clock.now();
    let authenticatorId: string | null = null;
    const spent = await this.deps.codeChecks.spend(record, await check(record, now), async (proof) => {
      if ('authenticatorId' in proof) authenticatorId = proof.authenticatorId;
      if (remember.rememberDevice) return this.#spendRemembering(proof, record, remember.deviceLabel, now);
      // A recovery code records how many are left, counted on the record the write applies to; a
      // security key's spend may restore suspended TOTP, which is said in its write (spendOnCurrent).
      if (!('timeStep' in proof)) {
        const spent = await spendOnCurrent(this.deps, proof, record, () => ({ change: {}, result: null }));
        return spent && { ...spent, device: null };
      }
      // The hot path: a TOTP login changes nothing a user is told about, and needs no version.
      return this.deps.factors.spendProof(userId, proof, { usedAt: now }).then((s) => s && { ...s, device: null });
    });
    return {
      verifiedAt: now,
      authenticatorId,
      device: spent.device && { token: spent.device.token, expiresAt: spent.device.record.expiresAt },
      recoveryCodesRemaining: spent.recoveryCodesRemaining,
    };
  }

  /**
   * Spends the proof and remembers a device in one write, evicting expired
   * devices and the oldest beyond MFA_MAX_REMEMBERED_DEVICES, worked out from
   * the record the write applies to (so concurrent calls keep the cap).
   */
  async #spendRemembering(proof: CodeProof, read: FactorRecord, label: string, now: Date) {
    const spent = await spendOnCurrent(this.deps, proof, read, (record) => {
      const device = this.deps.devices.remember(record.devices, label, now);
      const events = [this.deps.events.make(record.userId, 'DEVICE_REMEMBERED', { deviceId: device.record.deviceId })];
      return { change: { addDevice: device.record, removeDeviceIds: device.evictDeviceIds, usedAt: now, events }, result: device };
    });
    return spent && { recoveryCodesRemaining: spent.recoveryCodesRemaining, device: spent.result };
  }

}
