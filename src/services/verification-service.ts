import { runDetached } from '../call-scope.js';
import type { Clock } from '../domain/clock.js';
import { ErrorReason, MfaError } from '../domain/errors.js';
import type { RecoveryCodes } from '../domain/recovery-codes.js';
import { isTotpCodeFormat } from '../domain/totp.js';
import type { Logger } from 'pino';
import type { CodeProof, FactorRecord, FactorStore, PendingEnrollmentStore } from '../stores/ports.js';
import { isSpendable } from '../stores/proof.js';
import { storeUnavailable } from '../stores/store-unavailable.js';
import type { CheckResult, CodeChecks } from './code-checks.js';
import type { DeviceService, RememberedDevice } from './device-service.js';
import type { SessionService } from './session-service.js';

export interface RememberRequest {
  readonly rememberDevice: boolean;
  readonly deviceLabel: string;
}

export interface Verified {
  readonly verifiedAt: Date;
  readonly device: { readonly token: string; readonly expiresAt: Date } | null;
  readonly recoveryCodesRemaining: number;
}

// Concurrent "remember this device" writes of one user retry on a changed record; each round one of them wins.
const MAX_REMEMBER_ROUNDS = 16;

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
      readonly clock: Clock;
      readonly logger: Logger;
    },
  ) {}

  async verifyTotp(request: { userId: string; code: string } & RememberRequest): Promise<Verified> {
    return this.#verify(request.userId, (record, now) => this.deps.codeChecks.totp(record, request.code, now), request);
  }

  async verifyRecoveryCode(request: { userId: string; recoveryCode: string } & RememberRequest): Promise<Verified> {
    return this.#verify(request.userId, (record) => this.deps.codeChecks.recoveryCode(record, request.recoveryCode), request);
  }

  /** Turns MFA off with a TOTP code (6 digits) or a recovery code. */
  async disable(request: { userId: string; code: string }): Promise<{ disabledAt: Date }> {
    const { userId } = request;
    const record = await this.#enabledRecord(userId);
    const now = this.deps.clock.now();
    const { codeChecks } = this.deps;
    const check = isTotpCodeFormat(request.code) ? codeChecks.totp(record, request.code, now) : codeChecks.recoveryCode(record, request.code);
    await codeChecks.spend(userId, check, async (proof) => {
      // The cache half of the revocation first: a failure in between errs on the side of logging out.
      await this.deps.sessions.announce(userId, now);
      return (await this.deps.factors.disable(userId, proof, now)) || null;
    });
    // A confirmed enrollment kept for Confirm's retries must not outlive the factor it turned on.
    await runDetached(() => this.deps.pending.clear(userId)).catch((error: unknown) =>
      this.deps.logger.warn({ err: error, userId }, 'could not clear the confirmed enrollment after DisableMfa'),
    );
    return { disabledAt: now };
  }

  async regenerateRecoveryCodes(request: { userId: string; code: string }): Promise<string[]> {
    const { userId } = request;
    const record = await this.#enabledRecord(userId);
    const check = this.deps.codeChecks.totp(record, request.code, this.deps.clock.now());
    const issued = this.deps.recoveryCodes.issue(userId);
    await this.deps.codeChecks.spend(userId, check, (proof) => this.deps.factors.spendProof(userId, proof, { replaceRecoveryCodes: issued.set }));
    return issued.codes;
  }

  async #verify(userId: string, check: (record: FactorRecord, now: Date) => CheckResult, remember: RememberRequest): Promise<Verified> {
    const record = await this.#enabledRecord(userId);
    const now = this.deps.clock.now();
    const spent = await this.deps.codeChecks.spend(userId, check(record, now), async (proof) =>
      remember.rememberDevice
        ? this.#spendRemembering(userId, proof, record, remember.deviceLabel, now)
        : this.deps.factors.spendProof(userId, proof, {}).then((s) => s && { ...s, device: null }),
    );
    return {
      verifiedAt: now,
      device: spent.device && { token: spent.device.token, expiresAt: spent.device.record.expiresAt },
      recoveryCodesRemaining: spent.recoveryCodesRemaining,
    };
  }

  /**
   * Spends the proof and remembers a device in one write, evicting expired
   * devices and the oldest beyond MFA_MAX_REMEMBERED_DEVICES. The evictions
   * are worked out from the record that write applies to (it names the
   * record's version), so concurrent calls cannot together exceed the cap.
   */
  async #spendRemembering(
    userId: string,
    proof: CodeProof,
    read: FactorRecord,
    label: string,
    now: Date,
  ): Promise<{ recoveryCodesRemaining: number; device: RememberedDevice | null } | null> {
    let record = read;
    for (let round = 0; round < MAX_REMEMBER_ROUNDS; round += 1) {
      const device: RememberedDevice = this.deps.devices.remember(record.devices, label, now);
      const change = { addDevice: device.record, removeDeviceIds: device.evictDeviceIds };
      const spent = await this.deps.factors.spendProof(userId, proof, change, record.version);
      if (spent !== null) return { ...spent, device };
      const fresh = await this.deps.factors.get(userId);
      if (fresh === null || !isSpendable(fresh, proof)) return null;
      record = fresh;
    }
    throw storeUnavailable('MongoDB (the user record kept changing under a remember-device write)', null);
  }

  async #enabledRecord(userId: string): Promise<FactorRecord> {
    const record = await this.deps.factors.get(userId);
    if (!record?.enabled || record.sealedSecret === null) {
      throw new MfaError(ErrorReason.MFA_NOT_ENABLED, 'MFA is not enabled for this user');
    }
    return record;
  }
}
