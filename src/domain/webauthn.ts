/**
 * Security keys and passkeys (WebAuthn) as a second factor (issue 23): what
 * the service keeps of a credential, what proves an assertion, and the
 * settings. The checks themselves (origin, RP ID, signature, flags) are
 * @simplewebauthn/server's, called from services/webauthn.
 */

/** The WebAuthn settings (MFA_WEBAUTHN_*); absent when MFA_WEBAUTHN_RP_ID or MFA_WEBAUTHN_ORIGINS is not set. */
export interface WebAuthnSettings {
  readonly rpId: string;
  readonly rpName: string;
  readonly origins: readonly string[];
  readonly userVerification: 'required' | 'preferred' | 'discouraged';
  readonly residentKey: 'required' | 'preferred' | 'discouraged';
  readonly challengeMs: number;
  /**
   * `none`: the key's attestation is not asked for, and not examined.
   * `direct`: asked for, and a registration must carry a full attestation
   * (x5c) that chains to one of `attestationRoots`.
   */
  readonly attestation: 'none' | 'direct';
  /** The PEM roots of MFA_WEBAUTHN_ATTESTATION_ROOTS (with `direct`; empty with `none`). */
  readonly attestationRoots: readonly string[];
}

/** The label of a security key registered without one. */
export const DEFAULT_WEBAUTHN_LABEL = 'Security key';

/**
 * What proves a change with a security key: its assertion passed, and its
 * signature counter moves from `previousSignCount` to `signCount`. Spending it
 * is the conditional write of the counter (it applies only while the stored
 * counter is still `previousSignCount`), so that concurrent assertions of
 * one key cannot both move it. Single use comes first from the challenge,
 * taken atomically in Redis.
 */
export interface WebAuthnProof {
  readonly authenticatorId: string;
  readonly signCount: number;
  readonly previousSignCount: number;
  /** The credential's backup state as the assertion's BS flag says (a passkey may be synced later); kept with the counter. */
  readonly backedUp?: boolean;
}

/**
 * WebAuthn §6.1.1: a counter that does not move forward (both zero means the
 * key keeps no counter, as synced passkeys do) may be a cloned key.
 */
export function counterRegressed(stored: number, received: number): boolean {
  return (stored > 0 || received > 0) && received <= stored;
}

/** Most bytes of a credential_json (a RegistrationResponseJSON or AuthenticationResponseJSON). */
export const MAX_CREDENTIAL_JSON = 16_384;
