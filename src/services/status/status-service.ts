import type { Clock } from '../../domain/clock.js';
import type { AttemptStore, FactorStore, PendingEnrollmentStore } from '../../stores/ports/index.js';
import { liveDevices } from '../devices/device-service.js';
import type { SessionService } from '../sessions/session-service.js';

export interface MfaStatus {
  readonly enabled: boolean;
  readonly enabledAt: Date | null;
  readonly recoveryCodesRemaining: number;
  readonly authenticators: number;
  readonly rememberedDevices: number;
  readonly pendingEnrollmentExpiresAt: Date | null;
  readonly lockedUntil: Date | null;
  readonly sessionsRevokedAt: Date | null;
  /** When too many failed checks in a row suspended the user's TOTP (issue 22); null when not suspended. */
  readonly totpSuspendedAt: Date | null;
}

/** GetMfaStatus: one view over the durable and the short-lived state. */
export class StatusService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly attempts: AttemptStore;
      readonly sessions: SessionService;
      readonly clock: Clock;
    },
  ) {}

  async get(userId: string): Promise<MfaStatus> {
    const [record, pending, lockoutMs, sessionsRevokedAt] = await Promise.all([
      this.deps.factors.get(userId),
      this.deps.pending.get(userId),
      this.deps.attempts.lockoutRemainingMs(userId),
      this.deps.sessions.revokedAt(userId),
    ]);
    const now = this.deps.clock.now();
    const enabled = record?.enabled ?? false;
    return {
      enabled,
      enabledAt: enabled ? record!.enabledAt : null,
      recoveryCodesRemaining: enabled ? (record!.recoveryCodes?.hashes.length ?? 0) : 0,
      authenticators: enabled ? record!.authenticators.length : 0,
      rememberedDevices: enabled ? liveDevices(record!.devices, now).length : 0,
      // A confirmed enrollment is kept only to answer Confirm's retries: it is not pending any more.
      pendingEnrollmentExpiresAt: pending !== null && pending.confirmation === undefined ? pending.expiresAt : null,
      lockedUntil: lockoutMs > 0 ? new Date(now.getTime() + lockoutMs) : null,
      sessionsRevokedAt,
      totpSuspendedAt: enabled ? record!.failures.totpSuspendedAt : null,
    };
  }
}
