/**
 * The store interfaces (ports) the services are written against. Each has a
 * Redis or MongoDB adapter and an in-memory one; test/integration/*-contract
 * runs the same suite against all of them.
 *
 * Adapters throw MfaError(STORE_UNAVAILABLE) when their server cannot be reached.
 */
import type { RecoveryCodeSet } from '../domain/recovery-codes.js';

// ---- Durable MFA state (MongoDB) ---------------------------------------------

/** A remembered device as stored: the token only as its hash. */
export interface DeviceRecord {
  readonly deviceId: string;
  readonly tokenHash: string;
  readonly label: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
  readonly expiresAt: Date;
}

/** One user's durable MFA state. */
export interface FactorRecord {
  readonly userId: string;
  readonly enabled: boolean;
  readonly enabledAt: Date | null;
  /** The TOTP secret sealed by SecretBox; null when MFA is off. */
  readonly sealedSecret: string | null;
  /** The last accepted TOTP time step (replay protection, RFC 6238 §5.2). */
  readonly lastTimeStep: number;
  readonly recoveryCodes: RecoveryCodeSet | null;
  readonly devices: readonly DeviceRecord[];
  readonly sessionsRevokedAt: Date | null;
}

/**
 * What proves a code-checked change: a TOTP step newer than the last one, or
 * an unused recovery code. `firstStep` marks the step that confirms a new
 * secret: it starts the claims afresh, since steps claimed under the user's
 * previous secret say nothing about the new one.
 */
export type CodeProof =
  | { readonly timeStep: number; readonly firstStep?: boolean }
  | { readonly recoveryCodeHash: string };

export interface EnableFactor {
  readonly sealedSecret: string;
  readonly enabledAt: Date;
  readonly timeStep: number;
  readonly recoveryCodes: RecoveryCodeSet;
  readonly sessionsRevokedAt: Date;
}

/** Changes applied atomically with a proof (all in one document write). */
export interface ProvenChange {
  /** Remember a device. */
  readonly addDevice?: DeviceRecord;
  /** Forget these devices (the service prunes expired and surplus ones when it adds one). */
  readonly removeDeviceIds?: readonly string[];
  readonly replaceRecoveryCodes?: RecoveryCodeSet;
}

export interface FactorStore {
  get(userId: string): Promise<FactorRecord | null>;
  /** Turns MFA on and forgets every device. False when it is already on. */
  enable(userId: string, change: EnableFactor): Promise<boolean>;
  /**
   * Spends the proof (sets lastTimeStep, or removes the recovery code hash) and
   * applies `change`, all or nothing. Null when MFA is off or the proof was
   * already spent; else the number of recovery codes left.
   */
  spendProof(userId: string, proof: CodeProof, change: ProvenChange): Promise<{ recoveryCodesRemaining: number } | null>;
  /** Spends the proof and turns MFA off, forgetting secret, codes and devices. False when the proof was spent or MFA is off. */
  disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date): Promise<boolean>;
  /** Turns MFA off without a proof (an admin reset). False when MFA is off. */
  reset(userId: string, sessionsRevokedAt: Date): Promise<boolean>;
  /** Moves sessionsRevokedAt forward (never back). Creates the record when needed. */
  raiseSessionsRevokedAt(userId: string, at: Date): Promise<void>;
  /** Sets a device's lastUsedAt. */
  touchDevice(userId: string, deviceId: string, at: Date): Promise<void>;
  /** False when the user has no such device. */
  removeDevice(userId: string, deviceId: string): Promise<boolean>;
}

// ---- Short-lived state (Redis) -------------------------------------------------

/** An enrollment waiting for its first code. */
export interface PendingEnrollment {
  readonly enrollmentId: string;
  readonly userId: string;
  readonly sealedSecret: string;
  readonly expiresAt: Date;
}

export interface PendingEnrollmentStore {
  /** Stores `enrollment` until its expiresAt, replacing the user's previous one. */
  put(enrollment: PendingEnrollment): Promise<void>;
  /** The user's pending enrollment, or null when there is none or it expired. */
  get(userId: string): Promise<PendingEnrollment | null>;
  /** Removes it if its id matches; false otherwise. */
  remove(userId: string, enrollmentId: string): Promise<boolean>;
}

/**
 * How long the AttemptStore remembers a claimed proof. A TOTP code is valid
 * for at most three periods (90 s) and a used recovery code leaves the
 * durable store at once, so a day is far more than needed; it bounds memory.
 */
export const PROOF_CLAIM_TTL_MS = 24 * 60 * 60 * 1000;

/** The result of settling one code check against the lockout counter and the replay guard. */
export type AttemptOutcome =
  | { readonly kind: 'accepted' }
  /** A failed check, or (`reused`) a right code whose proof was already claimed. */
  | { readonly kind: 'rejected'; readonly failures: number; readonly reused: boolean }
  | { readonly kind: 'locked'; readonly retryAfterMs: number };

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockoutMs: number;
}

export interface AttemptStore {
  /**
   * In one atomic step: if the user is locked, says so (whatever the check
   * was). Otherwise a passed check (`proof` given) claims its proof, once: a
   * TOTP step only when it is newer than every step claimed before, a
   * recovery code hash only the first time. A successful claim clears the
   * failure count; a failed check (`proof` null) or a failed claim counts,
   * and locks the user for `lockoutMs` when the count reaches `maxFailures`.
   *
   * This is the replay guard across instances (RFC 6238 §5.2): Redis scripts
   * are atomic, conditional updates on FerretDB are not. The FactorStore
   * keeps the durable copy (lastTimeStep, the remaining code hashes).
   */
  settle(userId: string, proof: CodeProof | null, policy: LockoutPolicy): Promise<AttemptOutcome>;
  /** Milliseconds left of the user's lockout, or 0. */
  lockoutRemainingMs(userId: string): Promise<number>;
  /**
   * Un-claims a recovery code whose durable spend failed (a store outage), so
   * the user can use it again. TOTP steps are not released: the next code
   * comes within 30 seconds.
   */
  releaseRecoveryCode(userId: string, recoveryCodeHash: string): Promise<void>;
}

/** A fast copy of each user's sessionsRevokedAt; the durable value is in FactorStore. */
export interface RevocationCache {
  /** The cached value: a Date, null for "never revoked", or undefined for "not cached". */
  get(userId: string): Promise<Date | null | undefined>;
  /** Caches `at` unless a later value is cached already (null caches "never revoked"). */
  raise(userId: string, at: Date | null): Promise<void>;
}

// ---- Audit trail (MongoDB) -----------------------------------------------------

/** One audit event as stored. Never holds a secret, code or token. */
export interface AuditEventRecord {
  readonly eventId: string;
  readonly occurredAt: Date;
  readonly userId: string;
  readonly event: string;
  readonly outcome: 'success' | 'failure';
  readonly caller: string;
  readonly requestId: string;
  readonly detail: string;
}

/** A position in a user's trail, newest first: (occurredAt, eventId) descending. */
export interface AuditCursor {
  readonly occurredAt: Date;
  readonly eventId: string;
}

export interface AuditLog {
  record(event: AuditEventRecord): Promise<void>;
  /** Up to `limit` of the user's events, newest first, all strictly after `after` in that order. */
  list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditEventRecord[]>;
}
