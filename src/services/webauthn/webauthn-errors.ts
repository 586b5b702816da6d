import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { WebAuthnSettings } from '../../domain/webauthn.js';

/** The errors of security keys (issue 23), shared by the WebAuthn services. */
export function notConfigured(): MfaError {
  return new MfaError(ErrorReason.WEBAUTHN_NOT_CONFIGURED, 'security keys are not configured: set MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS');
}

/** The settings, or WEBAUTHN_NOT_CONFIGURED when they are absent. */
export function requireSettings(settings: WebAuthnSettings | null): WebAuthnSettings {
  if (settings === null) throw notConfigured();
  return settings;
}

export function challengeNotFound(what = 'challenge'): MfaError {
  return new MfaError(ErrorReason.CHALLENGE_NOT_FOUND, `no such ${what} for this user: it expired, was used, or never existed; begin again`);
}

export function credentialInUse(): MfaError {
  return new MfaError(ErrorReason.CREDENTIAL_IN_USE, 'this security key is registered already');
}
