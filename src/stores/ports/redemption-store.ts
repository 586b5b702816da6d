/** One redeemed MFA assertion (RedeemMfaAssertion), kept until it expires. */
export interface Redemption {
  /** The assertion's jti: unique, so an assertion is redeemed once on every instance. */
  readonly assertionId: string;
  /** The consumer's id of the redemption: a retry with it is answered OK again. */
  readonly redemptionId: string;
  readonly userId: string;
  readonly redeemedAt: Date;
  /** The assertion's exp: after it the record serves nothing and is removed. */
  readonly expiresAt: Date;
}

/** Redemptions of MFA assertions (mfa_assertion_redemptions): durable, so losing Redis never allows a second one. */
export interface RedemptionStore {
  find(assertionId: string): Promise<Redemption | null>;
  /** Records `redemption` unless its assertion was redeemed already; returns the record as stored (this one, or the first). */
  insertIfAbsent(redemption: Redemption): Promise<Redemption>;
  /** Removes at most `limit` redemptions that expired before `before`; returns how many. */
  removeExpired(before: Date, limit: number): Promise<number>;
}
