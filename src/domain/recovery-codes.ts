import { createHmac } from 'node:crypto';
import type { RandomBytes } from './clock.js';
import type { Keyring } from './keyring.js';

/** How many codes a user gets at enrollment and at each regeneration. */
export const RECOVERY_CODE_COUNT = 10;

// Crockford's base32: no I, L, O or U, so codes read aloud or retyped survive.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 10; // 10 x 5 bits = 50 bits of entropy
const HASH_BYTES = 16;
const HASH_PURPOSE = 'recovery-code-hash';

/** The stored form of a user's recovery codes: keyed hashes only, never the codes. */
export interface RecoveryCodeSet {
  /** The keyring key whose derived HMAC key made the hashes. */
  readonly keyId: string;
  readonly hashes: readonly string[];
}

/**
 * Canonical form of a typed recovery code: upper case, spaces and hyphens
 * dropped, Crockford's look-alikes folded (O->0, I/L->1). Null when what is
 * left cannot be a recovery code.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const folded = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (folded.length !== CODE_CHARS) return null;
  for (const char of folded) if (!ALPHABET.includes(char)) return null;
  return folded;
}

/** Issues recovery codes and hashes typed ones, with HMAC keys derived from the keyring. */
export class RecoveryCodes {
  constructor(
    private readonly keyring: Keyring,
    private readonly random: RandomBytes,
  ) {}

  /** Fresh codes, shown to the user once, and the set to store. */
  issue(userId: string): { codes: string[]; set: RecoveryCodeSet } {
    const codes: string[] = [];
    // One draw for all the codes: each call of the random source costs a few microseconds.
    const bytes = this.random(RECOVERY_CODE_COUNT * CODE_CHARS);
    for (let i = 0; i < RECOVERY_CODE_COUNT; i += 1) {
      let raw = '';
      // 256 is a multiple of 32, so masking keeps every character equally likely.
      for (const byte of bytes.subarray(i * CODE_CHARS, (i + 1) * CODE_CHARS)) raw += ALPHABET[byte & 31];
      codes.push(`${raw.slice(0, 5)}-${raw.slice(5)}`);
    }
    return { codes, set: this.setOf(userId, this.keyring.currentId, codes) };
  }

  /** The set to store for codes issued earlier (a retried confirmation), hashed with key `keyId`. */
  setOf(userId: string, keyId: string, codes: readonly string[]): RecoveryCodeSet {
    return { keyId, hashes: codes.map((code) => this.hash(userId, keyId, normalizeRecoveryCode(code)!)) };
  }

  /**
   * The stored hash of a normalized code. Keyed (HMAC) and bound to the user,
   * so a leaked database alone does not allow an offline search of the 2^50
   * codes. Throws when the keyring lost the key: every code would look
   * wrong, and a right one must not count towards a lockout (an INTERNAL
   * error with the key id in the log, as for a TOTP secret that no longer opens).
   */
  hash(userId: string, keyId: string, normalizedCode: string): string {
    const key = this.keyring.derive(keyId, HASH_PURPOSE);
    if (key === undefined) throw new Error(`recovery codes hashed with key "${keyId}", which MFA_ENCRYPTION_KEYS no longer has`);
    return createHmac('sha256', key)
      .update(userId)
      .update('\u0000')
      .update(normalizedCode)
      .digest()
      .subarray(0, HASH_BYTES)
      .toString('base64url');
  }
}
