import type { RecoveryCodes, RecoveryCodeSet } from '../../domain/recovery-codes.js';
import { confirmationContext, type SecretBox } from '../../domain/secret-box.js';
import { isWebAuthn, type FactorRecord, type WebAuthnAuthenticatorRecord, type WebAuthnChallenge } from '../../stores/ports/index.js';

/** What a registration's first verified Finish fixed (kept with the registration), so that every retry answers the same. */
export interface Outcome {
  readonly credentialId: string;
  readonly authenticator: WebAuthnAuthenticatorRecord;
  /** When MFA went on: the first verified Finish's time for a first factor, the user's enabledAt for an addition. */
  readonly enabledAt: Date;
  /** The recovery codes issued, sealed by SecretBox; empty when adding. */
  readonly sealedRecoveryCodes: string;
  /** The user's record version the outcome was fixed on: turning MFA on applies only to it. */
  readonly recordVersion: number;
}

/** FinishWebAuthnRegistration's answer: the first call's, and every retry's. */
export interface FinishedRegistration {
  readonly authenticatorId: string;
  readonly enabledAt: Date;
  readonly recoveryCodes: string[];
  readonly sessionsRevokedAt: Date | null;
}

/** What proposing and opening an outcome needs: the recovery codes are issued here and sealed to the registration. */
export interface OutcomeDeps {
  readonly box: SecretBox;
  readonly recoveryCodes: RecoveryCodes;
}

/** Whether the record holds this key, durably: the registration went through. */
export function holds(record: FactorRecord, key: WebAuthnAuthenticatorRecord): boolean {
  return record.authenticators.some((a) => a.authenticatorId === key.authenticatorId && isWebAuthn(a) && a.credentialId === key.credentialId);
}

/**
 * The outcome a verified Finish proposes: the key, created now; for a first
 * factor, MFA on now with fresh recovery codes (sealed); for an addition, the
 * user's own enabledAt (`record`'s), which every answer repeats.
 */
export function proposeOutcome(
  deps: OutcomeDeps,
  registration: WebAuthnChallenge,
  key: WebAuthnAuthenticatorRecord,
  now: Date,
  record: Pick<FactorRecord, 'version' | 'enabledAt'> | null,
): Outcome {
  const base = { credentialId: key.credentialId, authenticator: { ...key, createdAt: now }, recordVersion: record?.version ?? 0 };
  if (registration.registration!.adding) return { ...base, enabledAt: record!.enabledAt!, sealedRecoveryCodes: '' };
  const issued = deps.recoveryCodes.issue(registration.userId);
  const plain = Buffer.from(JSON.stringify({ keyId: issued.set.keyId, codes: issued.codes }));
  return { ...base, enabledAt: now, sealedRecoveryCodes: deps.box.seal(plain, confirmationContext(registration.userId, registration.challengeId)) };
}

/** The recovery codes a first factor's outcome issued (their set, as the user's record keeps it). */
export function outcomeCodeSet(deps: OutcomeDeps, registration: WebAuthnChallenge, outcome: Outcome): RecoveryCodeSet {
  const { keyId, codes } = openCodes(deps, registration, outcome);
  return deps.recoveryCodes.setOf(registration.userId, keyId, codes);
}

/** The answer an outcome gives, the same on every retry. */
export function answerOf(deps: OutcomeDeps, registration: WebAuthnChallenge, outcome: Outcome): FinishedRegistration {
  const { authenticatorId } = outcome.authenticator;
  if (registration.registration!.adding) return { authenticatorId, enabledAt: outcome.enabledAt, recoveryCodes: [], sessionsRevokedAt: null };
  const { codes } = openCodes(deps, registration, outcome);
  return { authenticatorId, enabledAt: outcome.enabledAt, recoveryCodes: codes, sessionsRevokedAt: outcome.enabledAt };
}

/** The outcome as kept with the registration in Redis (WebAuthnChallengeStore.settle): JSON, dates as ISO text. */
export function serializeOutcome(outcome: Outcome): string {
  return JSON.stringify(outcome);
}

/** The outcome serializeOutcome wrote. */
export function parseOutcome(text: string): Outcome {
  const parsed = JSON.parse(text) as Outcome & { enabledAt: string; authenticator: { createdAt: string } };
  return {
    ...parsed,
    enabledAt: new Date(parsed.enabledAt),
    authenticator: { ...parsed.authenticator, createdAt: new Date(parsed.authenticator.createdAt), lastUsedAt: null },
  };
}

function openCodes(deps: OutcomeDeps, registration: WebAuthnChallenge, outcome: Outcome): { keyId: string; codes: string[] } {
  const opened = deps.box.open(outcome.sealedRecoveryCodes, confirmationContext(registration.userId, registration.challengeId));
  return JSON.parse(opened.toString('utf8')) as { keyId: string; codes: string[] };
}
