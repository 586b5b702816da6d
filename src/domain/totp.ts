import { timingSafeEqual } from 'node:crypto';
import { generateSync, verifySync } from '@otplib/totp';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { ScureBase32Plugin } from '@otplib/plugin-base32-scure';

/** The TOTP parameters every authenticator app understands (RFC 6238, Google's Key Uri Format). */
export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** RFC 4226 §4 asks for at least 128 bits; 160 bits matches the SHA1 block size advice. */
export const TOTP_SECRET_BYTES = 20;

const crypto = new NodeCryptoPlugin();
const base32 = new ScureBase32Plugin();

/** True when `code` has the form of a TOTP code: exactly 6 ASCII digits. */
export function isTotpCodeFormat(code: string): boolean {
  return /^[0-9]{6}$/.test(code);
}

/** Base32 without padding, as authenticator apps expect it typed or in a URI. */
export function encodeSecret(secret: Uint8Array): string {
  return base32.encode(secret, { padding: false });
}

/** RFC 6238 §4.2: T = floor(unixTime / X). */
export function timeStepAt(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The oldest time step after `afterStep` at which `code` is valid for
 * `secret` around `at`, or null. One step of drift is accepted either side
 * (RFC 6238 §5.2). Replay is the caller's business: it passes the last step
 * it accepted as `afterStep`, and, when this returns null, asks again without
 * it to tell a replay from a wrong code.
 *
 * Skipping the spent steps here, not after the match, matters: two steps of
 * one window share their 6-digit code about once in a million pairs, and a
 * match that stopped at the older, spent step would refuse the fresh code as
 * a replay (the cause of a rare "code already used" in the bench).
 */
export function matchTotp(secret: Uint8Array, code: string, at: Date, afterStep?: number): number | null {
  const epoch = Math.floor(at.getTime() / 1000);
  // otplib throws on an afterTimeStep past the window's newest step (a clock
  // behind the one that spent it): no step of this window is fresh then.
  if (afterStep !== undefined && afterStep >= Math.floor((epoch + TOTP_PERIOD_SECONDS) / TOTP_PERIOD_SECONDS)) return null;
  const result = verifySync({
    secret,
    token: code,
    crypto,
    epoch,
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: 'sha1',
    epochTolerance: TOTP_PERIOD_SECONDS,
    // otplib refuses a negative one; every step is after a negative step anyway.
    ...(afterStep !== undefined && afterStep >= 0 ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid ? result.timeStep : null;
}

/** The code an authenticator app shows at `at` (tests, benchmark and tooling). */
export function generateTotp(secret: Uint8Array | string, at: Date): string {
  return generateSync({
    secret,
    crypto,
    base32,
    epoch: Math.floor(at.getTime() / 1000),
    period: TOTP_PERIOD_SECONDS,
    digits: TOTP_DIGITS,
    algorithm: 'sha1',
  });
}

/**
 * The otpauth://totp/ URI (Google Authenticator Key Uri Format). It always
 * names algorithm, digits and period, which otplib's builder leaves out at
 * their defaults. Issuer and account name are percent-encoded each, so a ':'
 * inside the account name cannot be mistaken for the issuer separator.
 */
export function otpauthUri(input: { issuer: string; accountName: string; secret: string }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`;
  const query = new URLSearchParams({
    secret: input.secret,
    issuer: input.issuer,
    algorithm: TOTP_ALGORITHM,
    digits: String(TOTP_DIGITS),
    period: String(TOTP_PERIOD_SECONDS),
  });
  // URLSearchParams writes spaces as '+', which some apps show literally.
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}

/** True when `code` is the code of `secret` at time step `step`, whatever the time now (a retried confirmation). */
export function isTotpAtStep(secret: Uint8Array, code: string, step: number): boolean {
  const expected = Buffer.from(generateTotp(secret, new Date(step * TOTP_PERIOD_SECONDS * 1000)));
  const given = Buffer.from(code);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
