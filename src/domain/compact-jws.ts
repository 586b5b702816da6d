import { sign, type KeyObject } from 'node:crypto';

/**
 * An ES256 JWS in compact serialization (RFC 7515 §7.1): base64url(header)
 * . base64url(payload) . base64url(signature), the signature ECDSA P-256
 * with SHA-256 as the 64-byte r || s that RFC 7518 §3.4 asks for (Node's
 * `dsaEncoding: 'ieee-p1363'`). Signed synchronously by OpenSSL: jose's
 * signing goes through WebCrypto's thread pool and cost VerifyTotp about
 * 60% of its throughput in the benchmark (issue 25 allows 20%). Everything
 * else about assertions (keys, JWK Sets, verifying) is jose's, and the tests
 * verify these tokens with jose.
 */
export function signCompactEs256(encodedHeader: string, payload: object, key: KeyObject): string {
  const input = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A JWS protected header, encoded once per key. */
export function encodeJwsHeader(header: { readonly alg: 'ES256'; readonly kid: string; readonly typ: string }): string {
  return Buffer.from(JSON.stringify(header)).toString('base64url');
}
