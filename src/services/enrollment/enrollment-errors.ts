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

/** A proof field that must not be given (the first authenticator proves nothing existing): INVALID_ARGUMENT naming it. */
export function proofViolation(field: 'existing_code' | 'webauthn_assertion', description: string): MfaError {
  return new MfaError(ErrorReason.INVALID_REQUEST, `invalid request: ${field}`, { fieldViolations: [{ field, description }] });
}

/** Adding an authenticator without a proof: INVALID_ARGUMENT naming both fields, one of which is required. */
export function existingProofRequired(): MfaError {
  const description = "one of existing_code (a code of one of the user's authenticators, or a recovery code) and webauthn_assertion is required to add an authenticator";
  return new MfaError(ErrorReason.INVALID_REQUEST, 'invalid request: existing_code, webauthn_assertion', {
    fieldViolations: [
      { field: 'existing_code', description },
      { field: 'webauthn_assertion', description },
    ],
  });
}
