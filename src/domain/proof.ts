import type { RecoveryCodeSet } from './recovery-codes.js';
import type { WebAuthnProof } from './webauthn.js';

/**
 * What proves a code-checked change: a TOTP step newer than the last one
 * spent, or an unused recovery code. Spending it durably is what makes a code
 * single-use (RFC 6238 §5.2), on every instance.
 */
export type CodeProof = StepProof | { readonly recoveryCodeHash: string } | WebAuthnProof;

/** A TOTP code's proof: its authenticator's step. */
export interface StepProof {
  readonly authenticatorId: string;
  readonly timeStep: number;
}

/**
 * Whether `proof` can still be spent on `record`: MFA is on, and the TOTP
 * step is newer than the last one spent by that authenticator (RFC 6238
 * §5.2: a step only moves forward, per authenticator), or the recovery code
 * is among the unused ones, and TOTP is not suspended for a step. The one statement of the rule; the MongoDB
 * adapter's spend filter is its query form.
 */
export function isSpendable(record: SpendableState, proof: CodeProof): boolean {
  if (!record.enabled) return false;
  if ('signCount' in proof) {
    // A security key's counter moves only from the value its check read (the conditional write).
    const key = record.authenticators.find((a) => a.authenticatorId === proof.authenticatorId);
    return key !== undefined && 'signCount' in key && key.signCount === proof.previousSignCount;
  }
  if ('timeStep' in proof) {
    // Suspended TOTP (issue 22) spends no step until a recovery code restores it.
    if ((record.failures?.totpSuspendedAt ?? null) !== null) return false;
    const authenticator = record.authenticators.find((a) => a.authenticatorId === proof.authenticatorId);
    return authenticator !== undefined && 'lastTimeStep' in authenticator && proof.timeStep > authenticator.lastTimeStep;
  }
  return record.recoveryCodes?.hashes.includes(proof.recoveryCodeHash) ?? false;
}

/** What isSpendable reads: a FactorRecord, or (for a TOTP proof) VerifyTotp's copy of one. */
export interface SpendableState {
  readonly enabled: boolean;
  readonly authenticators: readonly ({ readonly authenticatorId: string; readonly lastTimeStep: number } | { readonly authenticatorId: string; readonly signCount: number })[];
  readonly recoveryCodes?: RecoveryCodeSet | null;
  /** totpSuspendedAt is set while the user's TOTP authenticators are suspended (a copy has none: its version decides). */
  readonly failures?: { readonly totpSuspendedAt: Date | null };
}

/**
 * A TOTP step spent with nothing else but its authenticator's lastUsedAt: a
 * plain login. It moves no version (FactorRecord.version), so the versioned
 * writes and VerifyTotp's copy are not disturbed by every login.
 */
export function isPlainLogin(proof: CodeProof, change: PlainLoginChange): boolean {
  const { usedAt: _usedAt, events = [], ...other } = change;
  return 'timeStep' in proof && events.length === 0 && Object.values(other).every((value) => value === undefined);
}

/** What isPlainLogin reads of a FactorStore's ProvenChange: any field set besides these makes it more than a login. */
export interface PlainLoginChange {
  readonly usedAt?: Date;
  readonly events?: readonly unknown[];
}
