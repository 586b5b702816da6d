import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose';
import type { SecretBox } from '../../domain/secret-box.js';
import type { StoredSigningKey } from '../../stores/ports/index.js';

type PublicJwk = Readonly<Record<string, string>>;

/**
 * A new ES256 signing key: its public JWK, and its PKCS#8 private key sealed
 * with the keyring's current key, bound to the kid and to the public key.
 */
export async function makeSigningKey(box: SecretBox, kid: string): Promise<{ readonly publicJwk: PublicJwk; readonly sealedPrivateKey: string }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = publicJwkOf(await exportJWK(publicKey));
  const sealedPrivateKey = box.seal(Buffer.from(await exportPKCS8(privateKey), 'utf8'), await signingKeyContext(kid, publicJwk));
  return { publicJwk, sealedPrivateKey };
}

/**
 * The stored key's private half, and the public JWK derived from it; throws
 * when the seal does not open (a keyring without its key, a swapped public
 * key) or when the private half does not yield the stored public key.
 */
export async function openSigningKey(box: SecretBox, stored: StoredSigningKey): Promise<{ readonly key: KeyObject; readonly publicJwk: PublicJwk }> {
  const key = createPrivateKey(box.open(stored.sealedPrivateKey, await signingKeyContext(stored.kid, stored.publicJwk)).toString('utf8'));
  const publicJwk = publicJwkOf(createPublicKey(key).export({ format: 'jwk' }) as JWK);
  if (!['kty', 'crv', 'x', 'y'].every((name) => publicJwk[name] === stored.publicJwk[name])) throw new Error(`signing key ${stored.kid}: the private key does not match the stored public key`);
  return { key, publicJwk };
}

/** The stored key's private half sealed again with the keyring's current key (a keyring rotation). */
export async function resealSigningKey(box: SecretBox, stored: StoredSigningKey): Promise<string> {
  const context = await signingKeyContext(stored.kid, stored.publicJwk);
  return box.seal(box.open(stored.sealedPrivateKey, context), context);
}

/** The keyring key id a sealed value names (v1.<keyId>.<iv>.<body>). */
export function sealedKeyId(sealed: string): string {
  return sealed.split('.')[1] ?? '';
}

/**
 * The associated data of a sealed signing key: its kid and its public key's
 * RFC 7638 thumbprint, so that neither can be swapped in the store.
 */
async function signingKeyContext(kid: string, publicJwk: PublicJwk): Promise<string> {
  return `mfa.v1/assertion-signing-key/${kid}/${await calculateJwkThumbprint(publicJwk as JWK, 'sha256')}`;
}

function publicJwkOf({ kty, crv, x, y }: JWK): PublicJwk {
  return { kty: kty!, crv: crv!, x: x!, y: y! };
}
