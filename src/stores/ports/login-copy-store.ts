import type { TotpAuthenticatorRecord } from './factor-records.js';

/** What a TOTP check reads of an authenticator. */
export type TotpKey = Pick<TotpAuthenticatorRecord, 'authenticatorId' | 'sealedSecret' | 'lastTimeStep'>;

/**
 * The login copy: what VerifyTotp reads of an enabled user's record, kept in Redis so that a
 * login needs no MongoDB read (issue 11). Nothing trusts it: a code it
 * accepts is spent by FactorStore.spendStep naming `version`, so a copy that
 * is behind (a write it never heard of, a refresh lost) makes that write miss,
 * and the login reads MongoDB as before. Secrets are in it sealed only.
 */
export interface LoginCopy {
  readonly userId: string;
  /** The record's version it was taken from. */
  readonly version: number;
  /** `lastTimeStep` is a hint: the copy is not refreshed when a login spends a step. */
  readonly authenticators: readonly TotpKey[];
  readonly recoveryCodesRemaining: number;
}

/** Each copy lives for the store's time to live (MFA_TOTP_COPY_SECONDS) after it was last put or read. */
export interface LoginCopyStore {
  /** The user's copy, or null when there is none (never taken, or expired); reading it keeps it for another time to live. */
  get(userId: string): Promise<LoginCopy | null>;
  /** Keeps `copy`, replacing the user's previous one. */
  put(copy: LoginCopy): Promise<void>;
}
