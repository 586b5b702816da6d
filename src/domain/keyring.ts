import { hkdfSync } from 'node:crypto';

/** One 256-bit key of the keyring, named so that stored data says which key sealed it. */
export interface KeyringKey {
  readonly id: string;
  readonly key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The keys from MFA_ENCRYPTION_KEYS: the first one seals new data, every one
 * opens old data, so a key can be rotated in without re-enrolling anyone.
 */
export class Keyring {
  readonly #keys: Map<string, Buffer>;
  readonly #derived = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(keys: readonly KeyringKey[]) {
    if (keys.length === 0) throw new Error('a keyring needs at least one key');
    this.#keys = new Map();
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) throw new Error(`key id "${id}" must be 1-32 characters of A-Z a-z 0-9 _ -`);
      if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes (256 bits), got ${key.length}`);
      if (this.#keys.has(id)) throw new Error(`key id "${id}" appears twice`);
      this.#keys.set(id, key);
    }
    this.currentId = keys[0]!.id;
  }

  /** The raw key with this id, or undefined when the keyring does not have it. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /** A subkey for one purpose (HKDF-SHA256), so one configured key serves encryption and hashing. */
  derive(id: string, purpose: string): Buffer | undefined {
    const cacheKey = `${id}\u0000${purpose}`;
    let subkey = this.#derived.get(cacheKey);
    if (subkey === undefined) {
      const key = this.#keys.get(id);
      if (key === undefined) return undefined;
      subkey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `mfa.v1 ${purpose}`, 32));
      this.#derived.set(cacheKey, subkey);
    }
    return subkey;
  }
}

/**
 * Parses `id:base64key,id:base64key`. Throws an Error whose message is fit for
 * a one-line start-up failure and never contains key material.
 */
export function parseKeyring(text: string): Keyring {
  const entries = text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
  if (entries.length === 0) throw new Error('MFA_ENCRYPTION_KEYS is empty; expected id:base64key[,id:base64key...]');
  const keys = entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`MFA_ENCRYPTION_KEYS entry ${index + 1} is not id:base64key`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      throw new Error(`MFA_ENCRYPTION_KEYS key "${id}" is not base64`);
    }
    return { id, key: Buffer.from(encoded, 'base64') };
  });
  try {
    return new Keyring(keys);
  } catch (error) {
    throw new Error(`MFA_ENCRYPTION_KEYS: ${(error as Error).message}`);
  }
}
