import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { RandomBytes } from './clock.js';
import { LEGACY_AUTHENTICATOR_ID } from './authenticators.js';
import type { Keyring } from './keyring.js';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals TOTP secrets with AES-256-GCM under the keyring's current key. The
 * associated data binds a sealed secret to its user: copied onto another
 * user's record it no longer opens.
 * Sealed form: `v1.<keyId>.<iv>.<ciphertext+tag>` (base64url), compact and self-describing.
 */
export class SecretBox {
  constructor(
    private readonly keyring: Keyring,
    private readonly random: RandomBytes,
  ) {}

  seal(plaintext: Uint8Array, associatedData: string): string {
    const keyId = this.keyring.currentId;
    const iv = this.random(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(keyId), iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return [FORMAT, keyId, iv.toString('base64url'), body.toString('base64url')].join('.');
  }

  open(sealed: string, associatedData: string): Buffer {
    const [format, keyId, ivText, bodyText] = sealed.split('.');
    if (format !== FORMAT || keyId === undefined || ivText === undefined || bodyText === undefined) {
      throw new Error('sealed secret has an unknown format');
    }
    const body = Buffer.from(bodyText, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key(keyId), Buffer.from(ivText, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
  }

  #key(keyId: string): Buffer {
    const key = this.keyring.key(keyId);
    if (key === undefined) throw new Error(`sealed with key "${keyId}", which MFA_ENCRYPTION_KEYS no longer has`);
    return key;
  }
}

/**
 * The associated data that binds a sealed TOTP secret to its user and its
 * authenticator: copied onto another user or authenticator, it no longer
 * opens. The legacy authenticator's secret was sealed bound to the user alone.
 */
export function totpSecretContext(userId: string, authenticatorId: string): string {
  return authenticatorId === LEGACY_AUTHENTICATOR_ID ? `mfa.v1/totp-secret/${userId}` : `mfa.v1/totp-secret/${userId}/${authenticatorId}`;
}

/** The associated data that binds the recovery codes kept for a retried confirmation to their user and enrollment. */
export function confirmationContext(userId: string, enrollmentId: string): string {
  return `mfa.v1/confirmed-recovery-codes/${userId}/${enrollmentId}`;
}
