import type { Clock } from '../domain/clock.js';
import { ErrorReason, MfaError } from '../domain/errors.js';
import { normalizeRecoveryCode, type RecoveryCodes } from '../domain/recovery-codes.js';
import { type SecretBox, totpSecretContext } from '../domain/secret-box.js';
import { isTotpCodeFormat, matchTotp } from '../domain/totp.js';
import type { CodeProof, FactorRecord, FactorStore } from '../stores/ports.js';
import type { AttemptGuard } from './attempt-guard.js';
import type { DeviceService } from './device-service.js';
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

/**
 * Every use of an enabled factor: login with a TOTP or recovery code, turning
 * MFA off, and regenerating recovery codes. Each check goes through the
 * AttemptGuard, which counts failures (lockout) and claims the proof once
 * across instances (replay protection, RFC 6238 §5.2); the FactorStore then
 * records the spend durably.
 */
export class VerificationService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly guard: AttemptGuard;
      readonly sessions: SessionService;
      readonly devices: DeviceService;
      readonly box: SecretBox;
      readonly recoveryCodes: RecoveryCodes;
      readonly clock: Clock;
    },
  ) {}

  async verifyTotp(request: { userId: string; code: string } & RememberRequest): Promise<Verified> {
    return this.#verify(request.userId, (record, now) => this.#checkTotp(record, request.code, now), request);
  }

  async verifyRecoveryCode(request: { userId: string; recoveryCode: string } & RememberRequest): Promise<Verified> {
    return this.#verify(request.userId, (record) => this.#checkRecoveryCode(record, request.recoveryCode), request);
  }

  /** Turns MFA off with a TOTP code (6 digits) or a recovery code. */
  async disable(request: { userId: string; code: string }): Promise<{ disabledAt: Date }> {
    const { userId } = request;
    const record = await this.#enabledRecord(userId);
    const now = this.deps.clock.now();
    const check = isTotpCodeFormat(request.code)
      ? this.#checkTotp(record, request.code, now)
      : this.#checkRecoveryCode(record, request.code);
    const proof = await this.deps.guard.settle(userId, check);
    await this.deps.sessions.announce(userId, now);
    await this.#spend(userId, proof, () => this.deps.factors.disable(userId, proof, now));
    return { disabledAt: now };
  }

  async regenerateRecoveryCodes(request: { userId: string; code: string }): Promise<string[]> {
    const { userId } = request;
    const record = await this.#enabledRecord(userId);
    const proof = await this.deps.guard.settle(userId, this.#checkTotp(record, request.code, this.deps.clock.now()));
    const issued = this.deps.recoveryCodes.issue(userId);
    await this.#spend(userId, proof, () => this.deps.factors.spendProof(userId, proof, { replaceRecoveryCodes: issued.set }));
    return issued.codes;
  }

  async #verify(
    userId: string,
    check: (record: FactorRecord, now: Date) => CheckResult,
    remember: RememberRequest,
  ): Promise<Verified> {
    const record = await this.#enabledRecord(userId);
    const now = this.deps.clock.now();
    const proof = await this.deps.guard.settle(userId, check(record, now));
    const device = remember.rememberDevice ? this.deps.devices.remember(record.devices, remember.deviceLabel, now) : null;
    const change = device ? { addDevice: device.record, removeDeviceIds: device.evictDeviceIds } : {};
    const spent = await this.#spend(userId, proof, () => this.deps.factors.spendProof(userId, proof, change));
    return {
      verifiedAt: now,
      device: device && { token: device.token, expiresAt: device.record.expiresAt },
      recoveryCodesRemaining: spent.recoveryCodesRemaining,
    };
  }

  async #enabledRecord(userId: string): Promise<FactorRecord> {
    const record = await this.deps.factors.get(userId);
    if (!record?.enabled || record.sealedSecret === null) {
      throw new MfaError(ErrorReason.MFA_NOT_ENABLED, 'MFA is not enabled for this user');
    }
    return record;
  }

  #checkTotp(record: FactorRecord, code: string, now: Date): CheckResult {
    const secret = this.deps.box.open(record.sealedSecret!, totpSecretContext(record.userId));
    const timeStep = matchTotp(secret, code, now);
    if (timeStep === null) return { failure: ErrorReason.INVALID_CODE };
    // RFC 6238 §5.2: once step T was accepted, no code of step <= T is accepted again.
    if (timeStep <= record.lastTimeStep) return { failure: ErrorReason.CODE_REUSED };
    return { timeStep };
  }

  #checkRecoveryCode(record: FactorRecord, typed: string): CheckResult {
    const normalized = normalizeRecoveryCode(typed);
    const set = record.recoveryCodes;
    if (normalized === null || set === null) return { failure: ErrorReason.INVALID_CODE };
    const hash = this.deps.recoveryCodes.hash(record.userId, set.keyId, normalized);
    if (hash === undefined || !set.hashes.includes(hash)) return { failure: ErrorReason.INVALID_CODE };
    return { recoveryCodeHash: hash };
  }

  /**
   * Records the spend of a claimed proof durably. The Redis claim already made
   * it single-use; the durable write can still refuse it when MFA was turned
   * off meanwhile, or when Redis lost its claims (a flush) and MongoDB's copy
   * shows the proof spent: then it counts as a failed attempt.
   */
  async #spend<T>(userId: string, proof: CodeProof, write: () => Promise<T | null | false>): Promise<T> {
    const result = await this.deps.guard.commit(userId, proof, write);
    if (result === null || result === false) {
      return this.deps.guard.reject(userId, 'timeStep' in proof ? ErrorReason.CODE_REUSED : ErrorReason.INVALID_CODE);
    }
    return result;
  }
}

type CheckResult = CodeProof | { readonly failure: ErrorReason };
