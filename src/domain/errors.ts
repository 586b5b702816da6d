/**
 * The one error type the service throws on purpose. Its reason is a closed set;
 * only src/grpc/ turns a reason into a gRPC status code (see grpc/error-status.ts).
 */
export const ErrorReason = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_CODE: 'INVALID_CODE',
  CODE_REUSED: 'CODE_REUSED',
  LOCKED_OUT: 'LOCKED_OUT',
  MFA_NOT_ENABLED: 'MFA_NOT_ENABLED',
  MFA_ALREADY_ENABLED: 'MFA_ALREADY_ENABLED',
  ENROLLMENT_NOT_FOUND: 'ENROLLMENT_NOT_FOUND',
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  /** The user has MFA_MAX_AUTHENTICATORS authenticators already. */
  AUTHENTICATOR_LIMIT: 'AUTHENTICATOR_LIMIT',
  /** No authenticator with that id for this user. */
  AUTHENTICATOR_NOT_FOUND: 'AUTHENTICATOR_NOT_FOUND',
  /** Removing the user's only authenticator: DisableMfa turns MFA off. */
  LAST_AUTHENTICATOR: 'LAST_AUTHENTICATOR',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  /** No or an unknown bearer token while MFA_AUTH_TOKENS is set. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** An admin RPC from a caller not in MFA_ADMIN_CALLERS. */
  ADMIN_REQUIRED: 'ADMIN_REQUIRED',
  /** The client cancelled the call; the work stopped. */
  CALL_ENDED: 'CALL_ENDED',
  /** The call's deadline passed; the work stopped. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** The instance has MFA_MAX_WATCH_STREAMS streams open already. */
  STREAM_LIMIT: 'STREAM_LIMIT',
  /** The instance is stopping: a stream ends so that its client reconnects to another. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** WatchSecurityEvents from a caller in neither MFA_EVENT_CALLERS nor MFA_ADMIN_CALLERS. */
  EVENT_CALLER_REQUIRED: 'EVENT_CALLER_REQUIRED',
  /** Events after the given cursor were removed by retention (MFA_EVENT_RETENTION_DAYS). */
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  /** MFA_MAX_CONSECUTIVE_FAILURES failed checks in a row suspended the user's TOTP authenticators (issue 22). */
  TOTP_SUSPENDED: 'TOTP_SUSPENDED',
  /** An MFA assertion was asked for, or redeemed, while MFA_ASSERTION_ISSUER is not set (issue 25). */
  ASSERTIONS_NOT_CONFIGURED: 'ASSERTIONS_NOT_CONFIGURED',
  /** RedeemMfaAssertion of an assertion redeemed already, with another redemption_id. */
  ASSERTION_ALREADY_USED: 'ASSERTION_ALREADY_USED',
  /** RedeemMfaAssertion of an assertion issued before the user's sessions_revoked_at. */
  ASSERTION_REVOKED: 'ASSERTION_REVOKED',
  /** RedeemMfaAssertion, with caller tokens on, by a caller other than the assertion's audience. */
  CALLER_NOT_AUDIENCE: 'CALLER_NOT_AUDIENCE',
  /** MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS are not set: security keys are off (issue 23). */
  WEBAUTHN_NOT_CONFIGURED: 'WEBAUTHN_NOT_CONFIGURED',
  /** An unknown, expired, already used, cross-purpose or another user's WebAuthn challenge or registration. */
  CHALLENGE_NOT_FOUND: 'CHALLENGE_NOT_FOUND',
  /** The security key's credential is registered already, to this user or another. */
  CREDENTIAL_IN_USE: 'CREDENTIAL_IN_USE',
  /** A security key's answer failed a check (origin, RP ID, signature, challenge, user verification, counter); the log says which. */
  WEBAUTHN_INVALID: 'WEBAUTHN_INVALID',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** A request field that failed validation (becomes a google.rpc.BadRequest violation). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

export interface MfaErrorOptions {
  /** For INVALID_REQUEST: every bad field. */
  readonly fieldViolations?: readonly FieldViolation[];
  /** For LOCKED_OUT: how long until codes are checked again. */
  readonly retryAfterMs?: number;
  /** Kept for the log, never sent to the caller. */
  readonly cause?: unknown;
}

export class MfaError extends Error {
  readonly reason: ErrorReason;
  readonly fieldViolations: readonly FieldViolation[];
  readonly retryAfterMs: number | undefined;

  constructor(reason: ErrorReason, message: string, options: MfaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MfaError';
    this.reason = reason;
    this.fieldViolations = options.fieldViolations ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True when `error` is an MfaError with the given reason. */
export function hasReason(error: unknown, reason: ErrorReason): boolean {
  return error instanceof MfaError && error.reason === reason;
}
