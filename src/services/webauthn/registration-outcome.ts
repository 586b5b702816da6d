import { isWebAuthn, type FactorRecord, type WebAuthnAuthenticatorRecord } from '../../stores/ports/index.js';

/** What a registration's first verified Finish fixed (kept with the registration), so that every retry answers the same. */
export interface Outcome {
  readonly credentialId: string;
  readonly authenticator: WebAuthnAuthenticatorRecord;
  readonly enabledAt: Date;
  /** The recovery codes issued, sealed by SecretBox; empty when adding. */
  readonly sealedRecoveryCodes: string;
  /** The user's record version the outcome was fixed on: turning MFA on applies only to it. */
  readonly recordVersion: number;
}

/** Whether the record holds this key, durably: the registration went through. */
export function holds(record: FactorRecord, key: WebAuthnAuthenticatorRecord): boolean {
  return record.authenticators.some((a) => a.authenticatorId === key.authenticatorId && isWebAuthn(a) && a.credentialId === key.credentialId);
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
