import type { RecoveryCodeSet } from '../../domain/recovery-codes.js';
import type { FactorRecord } from '../../stores/ports/index.js';

/**
 * Whether the user's recovery codes are still (what is left of) `issued`:
 * RegenerateRecoveryCodes has not replaced them. A first factor's retried
 * answer (ConfirmTotpEnrollment, FinishWebAuthnRegistration) hands its codes
 * back only while this holds.
 */
export function sameCodes(record: FactorRecord, issued: RecoveryCodeSet): boolean {
  const current = record.recoveryCodes;
  return current !== null && current.keyId === issued.keyId && current.hashes.every((hash) => issued.hashes.includes(hash));
}
