/**
 * The outcome of a ConfirmTotpEnrollment, fixed before MFA is turned on and
 * kept with the enrollment, so that a retried or crashed Confirm finishes
 * the same way and answers the same recovery codes.
 */
export interface EnrollmentConfirmation {
  /** The time step of the confirming code. */
  readonly timeStep: number;
  readonly enabledAt: Date;
  /** The issued recovery codes and the id of the key that hashes them, sealed by SecretBox; empty when adding an authenticator. */
  readonly sealedRecoveryCodes: string;
  /**
   * The version of the user's record when the outcome was fixed. Turning MFA
   * on applies only to that version: a DisableMfa, ResetMfa or any other
   * write in between supersedes the confirmation, so a late retry cannot undo it.
   */
  readonly recordVersion: number;
}

/** An enrollment waiting for its first code, or (with `confirmation`) being or just confirmed. */
export interface PendingEnrollment {
  readonly enrollmentId: string;
  readonly userId: string;
  /** The id the authenticator will have; its secret is sealed bound to it. */
  readonly authenticatorId: string;
  readonly label: string;
  /** An additional authenticator for a user with MFA on (else the first, which turns MFA on). */
  readonly adding: boolean;
  readonly sealedSecret: string;
  readonly expiresAt: Date;
  readonly confirmation?: EnrollmentConfirmation;
}

/** When PendingEnrollmentStore.put may replace a confirmed enrollment. */
export interface PutPendingOptions {
  /** Replace a confirmed one too (adding an authenticator: a new Begin ends the previous one's Confirm retries). */
  readonly replaceConfirmed?: boolean;
  /** Never replace the one with this id once confirmed, replaceConfirmed or not (a watch refreshing it must not end its Confirm). */
  readonly keepConfirmedId?: string;
}

export interface PendingEnrollmentStore {
  /**
   * Stores `enrollment` until its expiresAt, replacing the user's previous
   * one unless that one is confirmed and `options` do not allow replacing it:
   * then nothing changes and it returns false.
   */
  put(enrollment: PendingEnrollment, options?: PutPendingOptions): Promise<boolean>;
  /** The user's enrollment, or null when there is none or it expired. */
  get(userId: string): Promise<PendingEnrollment | null>;
  /**
   * In one atomic step: if the user's enrollment has this id, records
   * `confirmation` unless it has one already, and keeps it until `keepUntil`
   * (if later than its expiry). Returns the enrollment as it then is, with
   * whichever confirmation came first; null when the id does not match.
   */
  confirm(userId: string, enrollmentId: string, confirmation: EnrollmentConfirmation, keepUntil: Date): Promise<PendingEnrollment | null>;
  /** Removes it if its id matches and it is not confirmed; false otherwise. */
  remove(userId: string, enrollmentId: string): Promise<boolean>;
  /** Removes it if its id matches, confirmed or not (a confirmation that can no longer be finished). */
  discard(userId: string, enrollmentId: string): Promise<void>;
  /** Removes the user's enrollment, confirmed or not (MFA was turned off: nothing of it may be replayed). */
  clear(userId: string): Promise<void>;
}
