import { ErrorReason, MfaError } from '../../domain/errors.js';

/** The errors of enrolling and confirming authenticators, shared by EnrollmentService and ConfirmationService. */
export function alreadyEnabled(): MfaError {
  return new MfaError(ErrorReason.MFA_ALREADY_ENABLED, 'MFA is already enabled for this user');
}

export function authenticatorLimit(max: number): MfaError {
  return new MfaError(ErrorReason.AUTHENTICATOR_LIMIT, `this user has ${max} authenticators, the most MFA_MAX_AUTHENTICATORS allows`);
}

export function enrollmentNotFound(detail = 'it expired, was replaced or cancelled, or never existed'): MfaError {
  return new MfaError(ErrorReason.ENROLLMENT_NOT_FOUND, `no such pending enrollment for this user: ${detail}`);
}
