/**
 * One signing key of MFA assertions as stored: its public half in clear, its
 * private half sealed with the keyring (SecretBox). Its `_id` is its slot in
 * the rotation schedule, so that two instances creating the key of one slot
 * at once store one key: the second insert finds the first.
 */
export interface StoredSigningKey {
  /** The JWS `kid`: the schedule's anchor and the slot, so the same on every instance. */
  readonly kid: string;
  /** The rotation period it belongs to, counted from the anchor (0 for the very first key). */
  readonly slot: number;
  /** The public key as a JWK (kty, crv, x, y). */
  readonly publicJwk: Readonly<Record<string, string>>;
  /** The PKCS#8 private key, sealed (v1.<keyId>.<iv>.<body>), bound to the kid. */
  readonly sealedPrivateKey: string;
  readonly createdAt: Date;
  /** When it starts signing: a whole period after it was created (the very first key: at once). */
  readonly notBefore: Date;
}

/** The signing keys of MFA assertions and the start of their schedule (mfa_assertion_keys). */
export interface AssertionKeyStore {
  /** The schedule's anchor: `proposed` when none was stored yet, else the stored one (insert-if-absent). */
  anchor(proposed: Date): Promise<Date>;
  /** Every stored key, oldest slot first. */
  list(): Promise<StoredSigningKey[]>;
  /** Stores `key` unless its slot has one already; returns the slot's key as stored. */
  insertIfAbsent(key: StoredSigningKey): Promise<StoredSigningKey>;
  /** Replaces the key's sealed private key when it is still `from` (a keyring rotation); false when it was not. */
  reseal(slot: number, from: string, to: string): Promise<boolean>;
}
