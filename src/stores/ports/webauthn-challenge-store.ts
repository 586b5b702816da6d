/** What a WebAuthn challenge is for: a registration's cannot be used to authenticate, nor the reverse. */
export type ChallengePurpose = 'registration' | 'authentication';

/** A WebAuthn challenge, bound to its user and purpose, until expiresAt (MFA_WEBAUTHN_CHALLENGE_SECONDS). */
export interface WebAuthnChallenge {
  /** The registration_id or challenge_id the caller names it by. */
  readonly challengeId: string;
  readonly userId: string;
  readonly purpose: ChallengePurpose;
  /** The challenge the options carried, base64url. */
  readonly challenge: string;
  readonly expiresAt: Date;
  /** A registration's: the authenticator it will add. */
  readonly registration?: { readonly authenticatorId: string; readonly label: string; readonly adding: boolean };
}

/**
 * WebAuthn challenges: short-lived state in Redis with its TTL, like pending
 * enrollments. Keys hold the user id (as their Cluster hash tag) and the
 * purpose, so another user's or another purpose's id finds nothing.
 */
export interface WebAuthnChallengeStore {
  put(challenge: WebAuthnChallenge): Promise<void>;
  /**
   * Takes an authentication challenge: of concurrent takes of one, on any
   * instance, exactly one gets it (one atomic GETDEL); null when unknown,
   * expired, used, or another user's or purpose's.
   */
  take(userId: string, purpose: ChallengePurpose, challengeId: string): Promise<WebAuthnChallenge | null>;
  /** Reads a registration without using it up (FinishWebAuthnRegistration is idempotent). */
  get(userId: string, purpose: ChallengePurpose, challengeId: string): Promise<WebAuthnChallenge | null>;
  /**
   * Records a registration's outcome (opaque to the store) once: the first
   * recorded wins, and it and the registration are kept until at least
   * `keepUntil`. Returns the recorded outcome; null when the registration is gone.
   */
  settle(userId: string, challengeId: string, outcome: string, keepUntil: Date): Promise<string | null>;
  /** The outcome settle() recorded, or null. */
  outcome(userId: string, challengeId: string): Promise<string | null>;
}
