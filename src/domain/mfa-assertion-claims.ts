import { createHash } from 'node:crypto';

/** MfaAssertionRequest.audience: 1..128 printable ASCII characters. */
export const ASSERTION_AUDIENCE = /^[\x20-\x7e]{1,128}$/;
/** MfaAssertionRequest.purpose: 1..64 of a-z 0-9 _ . : - (issue 25). */
export const ASSERTION_PURPOSE = /^[a-z0-9_.:-]{1,64}$/;
/** MfaAssertionRequest.transaction: at most 4 KiB. */
export const MAX_ASSERTION_TRANSACTION_BYTES = 4096;

/** What a caller asks an assertion to be bound to. */
export interface AssertionBinding {
  readonly audience: string;
  readonly purpose: string;
  /** Null when none was given (no txn_hash then). */
  readonly transaction: Uint8Array | null;
}

/**
 * The check an assertion proves, as the service that ran it describes it.
 * VerifyTotp and VerifyRecoveryCode give `totp` and `recovery_code`; a
 * security-key check (issue 23) gives `webauthn` with its flags.
 */
export type AssertedMethod =
  | { readonly method: 'totp'; readonly authenticatorId: string; readonly authTime: Date }
  /** A recovery code belongs to no authenticator: the assertion has no authenticator_id. */
  | { readonly method: 'recovery_code'; readonly authenticatorId: null; readonly authTime: Date }
  | {
      readonly method: 'webauthn';
      readonly authenticatorId: string;
      readonly authTime: Date;
      /** The authenticator's UV flag: the user was verified (PIN, biometrics). */
      readonly userVerified: boolean;
      /** The BS flag: the credential is backed up (a synced passkey). */
      readonly backedUp: boolean;
    };

/** The claims of an MFA assertion besides iss, aud, iat, exp and jti (which the signer sets). */
export interface MethodClaims {
  /** The user. */
  readonly sub: string;
  /** When the check passed, in seconds since the epoch. */
  readonly auth_time: number;
  /** RFC 8176: ["otp"] for a code; ["hwk" or "swk", "user"] for a security key. */
  readonly amr: string[];
  /** A security key only: "phrh" (hardware-bound) or "phr" (a synced passkey). */
  readonly acr?: 'phr' | 'phrh';
  /** A security key only: whether the user was verified (PIN, biometrics). */
  readonly uv?: boolean;
  readonly mfa_method: 'totp' | 'recovery_code' | 'webauthn';
  /** The authenticator whose check passed; absent for a recovery code. */
  readonly authenticator_id?: string;
  readonly purpose: string;
  /** The base64url SHA-256 of the transaction, when one was bound. */
  readonly txn_hash?: string;
}

/**
 * The claims that say how the user was checked (RFC 8176 amr; OpenID's
 * phishing-resistant acr values for a security key), and what for. A code
 * is `otp` and has no acr; a security key is `hwk` (or `swk` when backed
 * up: a synced passkey lives in software) plus `user`, with `uv`, and acr
 * `phrh` (hardware-bound) or `phr` (synced).
 */
export function methodClaims(userId: string, checked: AssertedMethod, binding: AssertionBinding): MethodClaims {
  const common = {
    sub: userId,
    auth_time: Math.floor(checked.authTime.getTime() / 1000),
    mfa_method: checked.method,
    ...(checked.authenticatorId === null ? {} : { authenticator_id: checked.authenticatorId }),
    purpose: binding.purpose,
    ...(binding.transaction === null ? {} : { txn_hash: transactionHash(binding.transaction) }),
  };
  if (checked.method !== 'webauthn') return { ...common, amr: ['otp'] };
  return {
    ...common,
    amr: [checked.backedUp ? 'swk' : 'hwk', 'user'],
    acr: checked.backedUp ? 'phr' : 'phrh',
    uv: checked.userVerified,
  };
}

/** txn_hash: the base64url SHA-256 of the transaction's bytes, as given (text as UTF-8). */
export function transactionHash(transaction: Uint8Array | string): string {
  return createHash('sha256').update(transaction).digest('base64url');
}
