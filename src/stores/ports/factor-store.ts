import type { SecurityEventRecord } from '../../domain/security-events.js';
import type { AuthenticatorRecord, CodeProof, DeviceRecord, EnableFactor, FactorRecord, ProvenChange, StepProof } from './factor-records.js';

/** Security events, in the order they were written, for one user. */
type Events = readonly SecurityEventRecord[];

/**
 * The user's durable MFA state. Every write that changes what a user should
 * hear about takes its security events and pushes them to the user's outbox
 * in the same single-document update, so a change never commits without its
 * events (nor they without it); EventRelay moves them to the SecurityEventLog
 * through the OutboxStore (outbox-store.ts), which every adapter of this port
 * also implements over the same documents.
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
   * spends of one proof, one wins. Every spend clears the durable failures
   * (a recovery code also restores suspended TOTP; a step is not spendable
   * while TOTP is suspended). Null when MFA is off, the proof was
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
   * only if the record is at `version`. Moves no version; clears the durable
   * failures, as every spend does. False when MFA is
   * off, the step was spent, or the record is at another version.
   */
  spendStep(userId: string, proof: StepProof, usedAt: Date, version: number): Promise<boolean>;
  /** Spends the proof and turns MFA off, forgetting secret, codes and devices. False when the proof was spent or MFA is off. */
  disable(userId: string, proof: CodeProof, sessionsRevokedAt: Date, events: Events): Promise<boolean>;
  /** Relabels an authenticator; null when the user has no such authenticator. */
  renameAuthenticator(userId: string, authenticatorId: string, label: string, events: Events): Promise<AuthenticatorRecord | null>;
  /**
   * The user's WebAuthn user handle: the one stored, or else `proposed`,
   * stored now (of concurrent calls, one's is kept and all return it).
   * Creates the record when needed; moves no version.
   */
  userHandle(userId: string, proposed: string): Promise<string>;
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
  /** Adds events to the user's outbox with no other change. Creates the record when needed. */
  recordEvents(userId: string, events: Events): Promise<void>;
  /**
   * A lockout started after `failures` more failed code checks (a security
   * key's are not given: they never count towards the suspension): adds them
   * to the durable count and one to the lockouts in a row, with the lockout's
   * events; moves no version (a login on an older copy may still clear it).
   * Creates the record when needed (a first enrollment's failed confirms).
   */
  recordLockout(userId: string, failures: number, events: Events): Promise<void>;
  /**
   * Suspends the user's TOTP authenticators after `count` failed checks in a
   * row, with its events; moves the version, so that a login on an older copy
   * misses. False when MFA is off or TOTP is suspended already.
   */
  suspendTotp(userId: string, at: Date, count: number, events: Events): Promise<boolean>;
}

/**
 * Each method of FactorStore, as a read or a write. Wrappers that act on
 * every write (decorateWrites: the FerretDB lock, the relay nudge) take the
 * writes from here; `satisfies` makes a method added to the port and not
 * listed here a compile error, so no wrapper can miss it.
 */
export const FACTOR_STORE_METHODS = {
  get: 'read',
  devices: 'read',
  enable: 'write',
  spendProof: 'write',
  spendStep: 'write',
  disable: 'write',
  renameAuthenticator: 'write',
  upgrade: 'write',
  userHandle: 'write',
  reset: 'write',
  raiseSessionsRevokedAt: 'write',
  touchDevice: 'write',
  removeDevice: 'write',
  recordEvents: 'write',
  recordLockout: 'write',
  suspendTotp: 'write',
} as const satisfies Record<keyof FactorStore, 'read' | 'write'>;

/** The names of FactorStore's writes. */
export type FactorStoreWrite = { [K in keyof FactorStore]: (typeof FACTOR_STORE_METHODS)[K] extends 'write' ? K : never }[keyof FactorStore];
