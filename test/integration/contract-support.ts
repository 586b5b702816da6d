import type { RecoveryCodeSet } from '../../src/domain/recovery-codes.js';
import type {
  AssertionKeyStore,
  AttemptStore,
  TotpAuthenticatorRecord,
  Notifier,
  DeviceRecord,
  FactorStore,
  OutboxStore,
  PendingEnrollmentStore,
  RevocationCache,
  SecurityEventLog,
  LoginCopyStore,
  RedemptionStore,
  CredentialClaimStore,
  WebAuthnChallengeStore,
} from '../../src/stores/ports/index.js';
import type { FakeClock, OffsetClock } from '../support/fake-clock.js';

/** What one adapter family under test provides; each `it` gets fresh user ids, so stores may be shared. */
export interface StoreFixture {
  factors: FactorStore & OutboxStore;
  pending: PendingEnrollmentStore;
  attempts: AttemptStore;
  revocations: RevocationCache;
  loginCopies: LoginCopyStore;
  securityEvents: SecurityEventLog;
  assertionKeys: AssertionKeyStore;
  redemptions: RedemptionStore;
  challenges: WebAuthnChallengeStore;
  credentialClaims: CredentialClaimStore;
  /** The notifiers of two instances sharing the stores; in memory, one process's notifier twice. */
  notifiers: readonly [Notifier, Notifier];
  clock: FakeClock | OffsetClock;
  /** Waits until real-time TTLs (Redis) have passed `ms`; for fake-clock stores, advances the clock. */
  elapse(ms: number): Promise<void>;
}

let counter = 0;
/** A user id no other contract test uses. */
export function newUser(): string {
  counter += 1;
  return `contract-user-${process.pid}-${Date.now()}-${counter}`;
}

export const codes = (keyId: string, ...hashes: string[]): RecoveryCodeSet => ({ keyId, hashes });

export function device(id: string, at: Date, overrides: Partial<DeviceRecord> = {}): DeviceRecord {
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

/** The id of the authenticator the contract tests enable with. */
export const FIRST = 'aut_aaaaaaaaaaaaaaaa';

export function authenticator(id: string, at: Date, overrides: Partial<TotpAuthenticatorRecord> = {}): TotpAuthenticatorRecord {
  return { authenticatorId: id, label: `label ${id.slice(4, 8)}`, sealedSecret: `sealed-${id}`, lastTimeStep: 0, createdAt: at, lastUsedAt: null, ...overrides };
}
