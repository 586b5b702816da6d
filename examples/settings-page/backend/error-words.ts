/**
 * What the page tells a person when a call fails: one sentence per reason of
 * the service (see docs/api.md "Errors"), with the reason itself kept for the
 * tooltip. Reasons the page never causes fall back to a generic sentence.
 */
import { MfaClientError, status } from 'mfa-service/client';
import { HttpError } from './http-kit.js';

const WORDS: Record<string, string> = {
  INVALID_CODE: 'That code is not right. Check the code in your authenticator app, or your recovery code, and try again.',
  CODE_REUSED: 'That code was already used. Wait for the next code in your authenticator app.',
  ENROLLMENT_NOT_FOUND: 'This QR code has expired. Scan the new one, or start again.',
  TOTP_SUSPENDED: 'Codes from your authenticator app are suspended after too many wrong codes. Use a recovery code instead.',
  MFA_NOT_ENABLED: 'Two-factor authentication is not on for this account.',
  MFA_ALREADY_ENABLED: 'Two-factor authentication is already on for this account.',
  AUTHENTICATOR_LIMIT: 'You have as many authenticators as an account can have. Remove one first.',
  AUTHENTICATOR_NOT_FOUND: 'That authenticator is no longer on your account.',
  LAST_AUTHENTICATOR: 'This is your only authenticator. To remove it, turn off two-factor authentication.',
  CHALLENGE_NOT_FOUND: 'That security-key request expired or was already used. Try again.',
  WEBAUTHN_INVALID: 'Your security key\'s answer was not accepted. Use a key registered to this account, and try again.',
  CREDENTIAL_IN_USE: 'That security key is already registered. Use another key.',
  WEBAUTHN_NOT_CONFIGURED: 'Security keys are not set up on this site (the service needs MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS).',
  DEVICE_NOT_FOUND: 'That device is no longer remembered.',
  STORE_UNAVAILABLE: 'The service is busy. Try again in a moment.',
  SHUTTING_DOWN: 'The service is restarting. Try again in a moment.',
  UNAVAILABLE: 'The sign-in service cannot be reached. Try again in a moment.',
  // This backend's own tokens do not allow the call: a setup error of the demo (MFA_TOKEN, MFA_ADMIN_TOKEN).
  UNAUTHENTICATED: 'This page is not allowed to call the sign-in service (its token is missing or wrong).',
  ADMIN_REQUIRED: 'The activity cannot be shown: this page is not an admin caller of the service (MFA_ADMIN_TOKEN).',
};

/** The HTTP status the page gets for a failed call. */
function httpStatus(code: status): number {
  if (code === status.INVALID_ARGUMENT || code === status.FAILED_PRECONDITION || code === status.ALREADY_EXISTS) return 400;
  if (code === status.PERMISSION_DENIED) return 403;
  if (code === status.NOT_FOUND) return 404;
  if (code === status.RESOURCE_EXHAUSTED) return 429;
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) return 503;
  return 500;
}

/** "3 seconds", "2 minutes": a lockout's time left, rounded up. */
export function timeLeft(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 120 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`;
}

/** A failed call of the service, as the page shows it. */
export function explain(error: MfaClientError): HttpError {
  const reason = error.reason ?? status[error.code] ?? 'UNKNOWN';
  let words = WORDS[reason];
  if (reason === 'LOCKED_OUT') {
    words = `Too many wrong codes. Try again in ${timeLeft(error.retryDelayMs ?? 0)}.`;
  } else if (reason === 'INVALID_REQUEST') {
    words = error.fieldViolations.map((v) => `${v.field.replaceAll('_', ' ')} ${v.description}`).join('; ');
    words = words ? `Please check what you typed: ${words}.` : 'Please check what you typed.';
  }
  return new HttpError(httpStatus(error.code), reason, words ?? 'Something went wrong. Try again in a moment.');
}
