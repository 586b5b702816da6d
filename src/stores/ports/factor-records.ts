import type { CodeProof, StepProof } from '../../domain/proof.js';
import type { RecoveryCodeSet } from '../../domain/recovery-codes.js';
import type { SecurityEventRecord } from '../../domain/security-events.js';

/** The records a FactorStore reads and writes: one user's durable MFA state (MongoDB). */

/** What spends a code (domain/proof.ts), as FactorStore's spends take it. */
export type { CodeProof, StepProof };

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
export interface TotpAuthenticatorRecord {
  readonly authenticatorId: string;
  /** Absent on entries written before security keys: they are all TOTP. */
  readonly kind?: 'totp';
  readonly label: string;
  /** Its TOTP secret, sealed by SecretBox bound to the user and this id. */
  readonly sealedSecret: string;
  /** Its last accepted time step: replay protection is per authenticator (RFC 6238 §5.2). */
  readonly lastTimeStep: number;
  readonly createdAt: Date;
  /** Null until a code of it is first accepted after its enrollment. */
  readonly lastUsedAt: Date | null;
}

/** One security key or passkey (WebAuthn) of a user: its public key, never a secret. */
export interface WebAuthnAuthenticatorRecord {
  readonly authenticatorId: string;
  readonly kind: 'webauthn';
  readonly label: string;
  /** The credential ID, base64url. Claimed for this user in the CredentialClaimStore before it was written here. */
  readonly credentialId: string;
  /** The COSE public key, base64url. */
  readonly publicKey: string;
  /** The last signature counter accepted; moved only by a conditional write (WebAuthnProof). */
  readonly signCount: number;
  readonly transports: readonly string[];
  /** UUID text; all zeros when the key does not say. */
  readonly aaguid: string;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly createdAt: Date;
  /** Null until an assertion of it is first accepted. */
  readonly lastUsedAt: Date | null;
}

/** One authenticator of a user, of either kind. */
export type AuthenticatorRecord = TotpAuthenticatorRecord | WebAuthnAuthenticatorRecord;

/** Whether `a` is a TOTP authenticator (entries without a kind are). */
export function isTotp(a: AuthenticatorRecord): a is TotpAuthenticatorRecord {
  return a.kind !== 'webauthn';
}

/** Whether `a` is a security key. */
export function isWebAuthn(a: AuthenticatorRecord): a is WebAuthnAuthenticatorRecord {
  return a.kind === 'webauthn';
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
  /** The user's failed code checks in a row, as far as written durably (issue 22). */
  readonly failures: DurableFailures;
  /**
   * The user's WebAuthn user handle (base64url of 32 random bytes; WebAuthn
   * §14.6.1: never the user id); null until the first BeginWebAuthnRegistration.
   * Kept when MFA is turned off, so a key registered before still names the same user.
   */
  readonly webauthnUserHandle: string | null;
}

/**
 * What MongoDB keeps of a run of failed code checks, so that losing Redis
 * gives no attacker a fresh set of tries (issue 22). The count of each
 * lockout is added when it starts (Redis counts those in between), so at
 * most MFA_MAX_FAILED_ATTEMPTS failures are lost with Redis's data. Every
 * spend of a code, DisableMfa, ResetMfa and turning MFA on clear it.
 */
export interface DurableFailures {
  /** Failed code checks in a row, up to the last lockout or the suspension (a security key's failures left out: they never suspend TOTP). */
  readonly count: number;
  /** Lockouts in a row: the next one lasts lockoutDurationMs(policy, lockouts + 1). */
  readonly lockouts: number;
  /** When MFA_MAX_CONSECUTIVE_FAILURES failures suspended the user's TOTP authenticators; null when not suspended. */
  readonly totpSuspendedAt: Date | null;
}

/** No failures: a fresh user, or one whose last check passed. */
export const NO_FAILURES: DurableFailures = Object.freeze({ count: 0, lockouts: 0, totpSuspendedAt: null });

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
  /** With a TOTP proof or a security key's: its authenticator's lastUsedAt. */
  readonly usedAt?: Date;
  readonly addAuthenticator?: AuthenticatorRecord;
  readonly removeAuthenticatorId?: string;
  /** Moves sessionsRevokedAt forward (never back). */
  readonly sessionsRevokedAt?: Date;
  /** Its security events, written with it (the user's outbox). */
  readonly events?: readonly SecurityEventRecord[];
}
