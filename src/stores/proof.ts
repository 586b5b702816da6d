import type { CodeProof, FactorRecord, ProvenChange, TotpKey } from './ports/index.js';

/**
 * Whether `proof` can still be spent on `record`: MFA is on, and the TOTP
 * step is newer than the last one spent by that authenticator (RFC 6238
 * §5.2: a step only moves forward, per authenticator), or the recovery code
 * is among the unused ones. The one statement of the rule; the MongoDB
 * adapter's spend filter is its query form.
 */
export function isSpendable(record: SpendableState, proof: CodeProof): boolean {
  if (!record.enabled) return false;
  if ('timeStep' in proof) {
    const authenticator = record.authenticators.find((a) => a.authenticatorId === proof.authenticatorId);
    return authenticator !== undefined && proof.timeStep > authenticator.lastTimeStep;
  }
  return record.recoveryCodes?.hashes.includes(proof.recoveryCodeHash) ?? false;
}

/** What isSpendable reads: a FactorRecord, or (for a TOTP proof) VerifyTotp's copy of one. */
export interface SpendableState {
  readonly enabled: boolean;
  readonly authenticators: readonly Pick<TotpKey, 'authenticatorId' | 'lastTimeStep'>[];
  readonly recoveryCodes?: FactorRecord['recoveryCodes'];
}

/**
 * A TOTP step spent with nothing else but its authenticator's lastUsedAt: a
 * plain login. It moves no version (FactorRecord.version), so the versioned
 * writes and VerifyTotp's copy are not disturbed by every login.
 */
export function isPlainLogin(proof: CodeProof, change: ProvenChange): boolean {
  const { usedAt: _usedAt, events = [], ...other } = change;
  return 'timeStep' in proof && events.length === 0 && Object.values(other).every((value) => value === undefined);
}
