/**
 * The store interfaces (ports) the services are written against. Each has a
 * Redis or MongoDB adapter and an in-memory one; test/integration/*-contract
 * runs the same suite against all of them.
 *
 * Adapters throw MfaError(STORE_UNAVAILABLE) when their server cannot be reached.
 */
import type { RecoveryCodeSet } from '../domain/recovery-codes.js';
import type { LoggedSecurityEvent, SecurityEventRecord, SecurityEventType } from '../domain/security-events.js';

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
   * Goes up with every write but a plain TOTP login (a step spent and its
   * authenticator's lastUsedAt set: the spend's own filter guards that step);
   * a write that depends on what was read (the device cap, a recovery code's
   * count, VerifyTotp on its Redis copy) names it and applies only if nothing
   * changed in between. 0 for a record written before versions existed.
   */
  readonly version: number;
}

/**
 * What proves a code-checked change: a TOTP step newer than the last one
 * spent, or an unused recovery code. Spending it durably is what makes a code
 * single-use (RFC 6238 §5.2), on every instance.
 */
export type CodeProof = StepProof | { readonly recoveryCodeHash: string };

/** A TOTP code's proof: its authenticator's step. */
export interface StepProof {
  readonly authenticatorId: string;
  readonly timeStep: number;
}

export interface EnableFactor {
  /** The first authenticator; its lastTimeStep is the confirming step. */
  readonly authenticator: AuthenticatorRecord;
  readonly enabledAt: Date;
  readonly recoveryCodes: RecoveryCodeSet;
  readonly sessionsRevokedAt: Date;
  /** Only if the record is still at this version (0: none yet, or written before versions). */
  readonly ifVersion?: number;
  /** Its security events, written with it (the user's outbox). */
  readonly events: readonly SecurityEventRecord[];
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
  /** Its security events, written with it (the user's outbox). */
  readonly events?: readonly SecurityEventRecord[];
}

/** Security events, in the order they were written, for one user. */
type Events = readonly SecurityEventRecord[];

/**
 * The user's durable MFA state. Every write that changes what a user should
 * hear about takes its security events and pushes them to the user's outbox
 * in the same single-document update, so a change never commits without its
 * events (nor they without it); EventRelay moves them to the SecurityEventLog.
 */
export interface FactorStore {
  get(userId: string): Promise<FactorRecord | null>;
  /**
   * The user's remembered devices while MFA is on, null while it is off or
   * was never on: what a device check needs, and no more (no secrets, codes
   * or outbox cross the wire).
   */
  devices(userId: string): Promise<readonly DeviceRecord[] | null>;
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
  /**
   * A plain TOTP login, as one conditional single-document update with no
   * document back: spends the step and sets its authenticator's lastUsedAt,
   * only if the record is at `version`. Moves no version. False when MFA is
   * off, the step was spent, or the record is at another version.
   */
  spendStep(userId: string, proof: StepProof, usedAt: Date, version: number): Promise<boolean>;
  /** Spends the proof and turns MFA off, forgetting secret, codes and devices. False when the proof was spent or MFA is off. */
  disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date, events: Events): Promise<boolean>;
  /** Relabels an authenticator; null when the user has no such authenticator. */
  renameAuthenticator(userId: string, authenticatorId: string, label: string, events: Events): Promise<AuthenticatorRecord | null>;
  /** Rewrites a `legacy` record in today's shape, keeping what it says; does nothing to any other. */
  upgrade(userId: string): Promise<void>;
  /** Turns MFA off without a proof (an admin reset). False when MFA is off. */
  reset(userId: string, sessionsRevokedAt: Date, events: Events): Promise<boolean>;
  /** Moves sessionsRevokedAt forward (never back). Creates the record when needed. */
  raiseSessionsRevokedAt(userId: string, at: Date, events: Events): Promise<void>;
  /** Sets a device's lastUsedAt. */
  touchDevice(userId: string, deviceId: string, at: Date): Promise<void>;
  /** False when the user has no such device. */
  removeDevice(userId: string, deviceId: string, events: Events): Promise<boolean>;
  /** Adds events to the user's outbox with no other change (a lockout: its state is in Redis). Creates the record when needed. */
  recordEvents(userId: string, events: Events): Promise<void>;
  /** The user's outbox: events written and not yet relayed, oldest first. */
  outbox(userId: string): Promise<SecurityEventRecord[]>;
  /** Up to `limit` users whose outbox holds an event that occurred before `before`, with their outboxes. */
  outboxes(before: Date, limit: number): Promise<{ userId: string; events: SecurityEventRecord[] }[]>;
  /** Removes these events (as outbox() returned them) from the user's outbox: they are in the SecurityEventLog. */
  dropFromOutbox(userId: string, events: Events): Promise<void>;
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

/** When PendingEnrollmentStore.put may replace a confirmed enrollment. */
export interface PutPendingOptions {
  /** Replace a confirmed one too (adding an authenticator: a new Begin ends the previous one's Confirm retries). */
  readonly replaceConfirmed?: boolean;
  /** Never replace the one with this id once confirmed, replaceConfirmed or not (a watch refreshing it must not end its Confirm). */
  readonly keepConfirmedId?: string;
}

export interface PendingEnrollmentStore {
  /**
   * Stores `enrollment` until its expiresAt, replacing the user's previous
   * one unless that one is confirmed and `options` do not allow replacing it:
   * then nothing changes and it returns false.
   */
  put(enrollment: PendingEnrollment, options?: PutPendingOptions): Promise<boolean>;
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
  /** Reads, changing nothing: the lockout left (ms, or 0) and the failures counted since the last pass. */
  standing(userId: string): Promise<{ lockedMs: number; failures: number }>;
}

/** What a TOTP check reads of an authenticator. */
export type TotpKey = Pick<AuthenticatorRecord, 'authenticatorId' | 'sealedSecret' | 'lastTimeStep'>;

/**
 * What VerifyTotp reads of an enabled user's record, kept in Redis so that a
 * login needs no MongoDB read (issue 11). Nothing trusts it: a code it
 * accepts is spent by FactorStore.spendStep naming `version`, so a copy that
 * is behind (a write it never heard of, a refresh lost) makes that write miss,
 * and the login reads MongoDB as before. Secrets are in it sealed only.
 */
export interface TotpCopy {
  readonly userId: string;
  /** The record's version it was taken from. */
  readonly version: number;
  /** `lastTimeStep` is a hint: the copy is not refreshed when a login spends a step. */
  readonly authenticators: readonly TotpKey[];
  readonly recoveryCodesRemaining: number;
}

/** Each copy lives for the store's time to live (MFA_TOTP_COPY_SECONDS) after it was last put or read. */
export interface TotpCopyStore {
  /** The user's copy, or null when there is none (never taken, or expired); reading it keeps it for another time to live. */
  get(userId: string): Promise<TotpCopy | null>;
  /** Keeps `copy`, replacing the user's previous one. */
  put(copy: TotpCopy): Promise<void>;
}

/** A fast copy of each user's sessionsRevokedAt; the durable value is in FactorStore. */
export interface RevocationCache {
  /** The cached value: a Date, null for "never revoked", or undefined for "not cached". */
  get(userId: string): Promise<Date | null | undefined>;
  /** Caches `at` unless a later value is cached already (null caches "never revoked"). */
  raise(userId: string, at: Date | null): Promise<void>;
}

// ---- Notices between instances (Redis pub/sub) ----------------------------------

/** Ends one subscription; resolves once the instance stops listening, if it was the last listener of that user. */
export type Unsubscribe = () => Promise<void>;

/**
 * News for every instance, by topic: that a user's enrollment was confirmed
 * (topic: the user id; message: the enrollment id), so that open
 * WatchTotpEnrollment streams wake instead of polling; that security events
 * were relayed, so that WatchSecurityEvents streams read on. A notice only
 * wakes: the listener then reads the stores and decides from them, so a lost
 * notice (a failed publish, a dropped connection) delays a stream to its next
 * check, it never makes it decide wrongly. Each instance listens on one
 * connection, shared by all of its listeners.
 */
export interface Notifier {
  /** Tells the listeners of `topic`, on every instance. Resolves to how many instances listened. */
  publish(topic: string, message: string): Promise<number>;
  /** Calls `listener` with each message published to `topic` from when it resolves until it is unsubscribed. */
  subscribe(topic: string, listener: (message: string) => void): Promise<Unsubscribe>;
}

// ---- Security events and the audit trail (MongoDB) ---------------------------

/** An audit event recorded before security events existed (ListAuditEvents still lists them). */
export interface LegacyAuditEvent {
  readonly eventId: string;
  readonly occurredAt: Date;
  readonly userId: string;
  readonly event: string;
  readonly outcome: 'success' | 'failure';
  readonly caller: string;
  readonly requestId: string;
  readonly detail: string;
}

/** An entry of a user's audit trail: a security event (relayed or still in the outbox), or one recorded before they existed. */
export type AuditTrailEntry = SecurityEventRecord | LegacyAuditEvent;

/** A position in a user's trail, newest first: (occurredAt, eventId) descending. */
export interface AuditCursor {
  readonly occurredAt: Date;
  readonly eventId: string;
}

/**
 * Every user's security events, each at a position: 1, 2, 3, ... with no gap,
 * and an event at position n is visible only once every position below n is.
 * So a reader that has read up to n never misses an event that commits later:
 * it can only come after n. (How the MongoDB adapter keeps that with several
 * instances appending at once: mongo/mongo-security-event-log.ts.)
 */
export interface SecurityEventLog {
  /**
   * Appends `events` in order at the next positions, each event id once: an
   * id already in the log is skipped. Safe to run on several instances at once.
   */
  append(events: readonly SecurityEventRecord[]): Promise<void>;
  /** The position of the newest event ever appended (also when retention removed it); 0 when none. */
  head(): Promise<number>;
  /** The position of the oldest event kept, or null when none is kept. */
  oldest(): Promise<number | null>;
  /** Up to `limit` events at positions after `after` and up to `upTo`, of `types` (all when null), by position. */
  read(after: number, upTo: number, limit: number, types: readonly SecurityEventType[] | null): Promise<LoggedSecurityEvent[]>;
  /** Up to `limit` entries of the user's audit trail, newest first, all strictly after `after` in that order. */
  list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditTrailEntry[]>;
  /** Removes what occurred before `before`, except the newest event; for servers without TTL indexes. Returns how many went. */
  removeBefore(before: Date): Promise<number>;
  /** True when the server expires events itself (a TTL index), so removeBefore need not run. */
  readonly expiresItself: boolean;
}
