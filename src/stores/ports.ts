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

/** One authenticator app (or hardware TOTP key) of a user. */
export interface AuthenticatorRecord {
  readonly authenticatorId: string;
  readonly label: string;
  /** Its TOTP secret, sealed by SecretBox bound to the user and this id. */
  readonly sealedSecret: string;
  /** Its last accepted time step: replay protection is per authenticator (RFC 6238 §5.2). */
  readonly lastTimeStep: number;
  readonly createdAt: Date;
  /** Null until a code of it is first accepted after its enrollment. */
  readonly lastUsedAt: Date | null;
}

/** One user's durable MFA state. */
export interface FactorRecord {
  readonly userId: string;
  readonly enabled: boolean;
  readonly enabledAt: Date | null;
  /** Oldest first; empty when MFA is off. */
  readonly authenticators: readonly AuthenticatorRecord[];
  /**
   * The document is in the shape of before several authenticators (one
   * secret per user); it reads as one authenticator (LEGACY_AUTHENTICATOR_ID),
   * and `upgrade` must rewrite it before any write that names that authenticator.
   */
  readonly legacy: boolean;
  readonly recoveryCodes: RecoveryCodeSet | null;
  readonly devices: readonly DeviceRecord[];
  readonly sessionsRevokedAt: Date | null;
  /**
   * Goes up with every write; a write that depends on what was read (the
   * device cap) names it and applies only if nothing changed in between.
   * 0 for a record written before versions existed.
   */
  readonly version: number;
}

/**
 * What proves a code-checked change: a TOTP step newer than the last one
 * spent, or an unused recovery code. Spending it durably is what makes a code
 * single-use (RFC 6238 §5.2), on every instance.
 */
export type CodeProof = { readonly authenticatorId: string; readonly timeStep: number } | { readonly recoveryCodeHash: string };

export interface EnableFactor {
  /** The first authenticator; its lastTimeStep is the confirming step. */
  readonly authenticator: AuthenticatorRecord;
  readonly enabledAt: Date;
  readonly recoveryCodes: RecoveryCodeSet;
  readonly sessionsRevokedAt: Date;
  /** Only if the record is still at this version (0: none yet, or written before versions). */
  readonly ifVersion?: number;
}

/** Changes applied atomically with a proof (all in one document write). */
export interface ProvenChange {
  /** Remember a device. */
  readonly addDevice?: DeviceRecord;
  /** Forget these devices (the service prunes expired and surplus ones when it adds one). */
  readonly removeDeviceIds?: readonly string[];
  readonly replaceRecoveryCodes?: RecoveryCodeSet;
  /** With a TOTP proof: its authenticator's lastUsedAt. */
  readonly usedAt?: Date;
  readonly addAuthenticator?: AuthenticatorRecord;
  readonly removeAuthenticatorId?: string;
  /** Moves sessionsRevokedAt forward (never back). */
  readonly sessionsRevokedAt?: Date;
}

export interface FactorStore {
  get(userId: string): Promise<FactorRecord | null>;
  /** Turns MFA on with its first authenticator and forgets every device. False when it is already on. */
  enable(userId: string, change: EnableFactor): Promise<boolean>;
  /**
   * Spends the proof (sets lastTimeStep, or removes the recovery code hash) and
   * applies `change`, all or nothing, in one conditional write: of concurrent
   * spends of one proof, one wins. Null when MFA is off, the proof was
   * already spent, or `ifVersion` is given and the record has changed since;
   * else the number of recovery codes left.
   */
  spendProof(
    userId: string,
    proof: CodeProof,
    change: ProvenChange,
    ifVersion?: number,
  ): Promise<{ recoveryCodesRemaining: number } | null>;
  /** Spends the proof and turns MFA off, forgetting secret, codes and devices. False when the proof was spent or MFA is off. */
  disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date): Promise<boolean>;
  /** Relabels an authenticator; null when the user has no such authenticator. */
  renameAuthenticator(userId: string, authenticatorId: string, label: string): Promise<AuthenticatorRecord | null>;
  /** Rewrites a `legacy` record in today's shape, keeping what it says; does nothing to any other. */
  upgrade(userId: string): Promise<void>;
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

/**
 * The outcome of a ConfirmTotpEnrollment, fixed before MFA is turned on and
 * kept with the enrollment, so that a retried or crashed Confirm finishes
 * the same way and answers the same recovery codes.
 */
export interface EnrollmentConfirmation {
  /** The time step of the confirming code. */
  readonly timeStep: number;
  readonly enabledAt: Date;
  /** The issued recovery codes and the id of the key that hashes them, sealed by SecretBox; empty when adding an authenticator. */
  readonly sealedRecoveryCodes: string;
  /**
   * The version of the user's record when the outcome was fixed. Turning MFA
   * on applies only to that version: a DisableMfa, ResetMfa or any other
   * write in between supersedes the confirmation, so a late retry cannot undo it.
   */
  readonly recordVersion: number;
}

/** An enrollment waiting for its first code, or (with `confirmation`) being or just confirmed. */
export interface PendingEnrollment {
  readonly enrollmentId: string;
  readonly userId: string;
  /** The id the authenticator will have; its secret is sealed bound to it. */
  readonly authenticatorId: string;
  readonly label: string;
  /** An additional authenticator for a user with MFA on (else the first, which turns MFA on). */
  readonly adding: boolean;
  readonly sealedSecret: string;
  readonly expiresAt: Date;
  readonly confirmation?: EnrollmentConfirmation;
}

export interface PendingEnrollmentStore {
  /**
   * Stores `enrollment` until its expiresAt, replacing the user's previous
   * one unless that one is confirmed (and `replaceConfirmed` is not set):
   * then nothing changes and it returns false.
   */
  put(enrollment: PendingEnrollment, options?: { readonly replaceConfirmed?: boolean }): Promise<boolean>;
  /** The user's enrollment, or null when there is none or it expired. */
  get(userId: string): Promise<PendingEnrollment | null>;
  /**
   * In one atomic step: if the user's enrollment has this id, records
   * `confirmation` unless it has one already, and keeps it until `keepUntil`
   * (if later than its expiry). Returns the enrollment as it then is, with
   * whichever confirmation came first; null when the id does not match.
   */
  confirm(userId: string, enrollmentId: string, confirmation: EnrollmentConfirmation, keepUntil: Date): Promise<PendingEnrollment | null>;
  /** Removes it if its id matches and it is not confirmed; false otherwise. */
  remove(userId: string, enrollmentId: string): Promise<boolean>;
  /** Removes it if its id matches, confirmed or not (a confirmation that can no longer be finished). */
  discard(userId: string, enrollmentId: string): Promise<void>;
  /** Removes the user's enrollment, confirmed or not (MFA was turned off: nothing of it may be replayed). */
  clear(userId: string): Promise<void>;
}

/** The result of passing one code check through the lockout gate. */
export type AttemptOutcome =
  | { readonly kind: 'accepted' }
  /** A failed check, counted: `failures` in a row so far. */
  | { readonly kind: 'rejected'; readonly failures: number }
  /** Locked: codes are not checked for `retryAfterMs`. `failures` is the count that locked the user when this check did, else 0. */
  | { readonly kind: 'locked'; readonly retryAfterMs: number; readonly failures: number };

export interface LockoutPolicy {
  readonly maxFailures: number;
  readonly lockoutMs: number;
}

/**
 * The lockout gate every code check passes, shared by every instance. It
 * holds no claim on any code: only the durable spend in the FactorStore
 * spends a code, so nothing here can burn one when a call is cut off.
 */
export interface AttemptStore {
  /**
   * In one atomic step: if the user is locked, says so (whatever the check
   * was). Otherwise a passed check clears the failure count; a failed one
   * counts, and locks the user for `lockoutMs` when the count reaches
   * `maxFailures`. Failures are forgotten after a quiet `lockoutMs`.
   */
  settle(userId: string, passed: boolean, policy: LockoutPolicy): Promise<AttemptOutcome>;
  /** Milliseconds left of the user's lockout, or 0. */
  lockoutRemainingMs(userId: string): Promise<number>;
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
