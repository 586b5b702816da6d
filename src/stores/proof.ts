import type { CodeProof, FactorRecord } from './ports.js';

/**
 * Whether `proof` can still be spent on `record`: MFA is on, and the TOTP
 * step is newer than the last one spent by that authenticator (RFC 6238
 * §5.2: a step only moves forward, per authenticator), or the recovery code
 * is among the unused ones. The one statement of the rule; the MongoDB
 * adapter's spend filter is its query form.
 */
export function isSpendable(record: FactorRecord, proof: CodeProof): boolean {
  if (!record.enabled) return false;
  if ('timeStep' in proof) {
    const authenticator = record.authenticators.find((a) => a.authenticatorId === proof.authenticatorId);
    return authenticator !== undefined && proof.timeStep > authenticator.lastTimeStep;
  }
  return record.recoveryCodes?.hashes.includes(proof.recoveryCodeHash) ?? false;
}
