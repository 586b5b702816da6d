import { timingSafeEqual } from 'node:crypto';
import { generateSync } from '@otplib/totp';
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

/**
 * The 6 digits of a code as a person types or pastes it, or null when it is
 * not one. Authenticator apps show codes as "123 456", so spaces anywhere are
 * ignored, as they are in recovery codes; the digits are then checked as any
 * code.
 */
export function normalizeTotpCode(input: string): string | null {
  if (input.length > 32) return null;
  const digits = input.replace(/\s/g, '');
  return isTotpCodeFormat(digits) ? digits : null;
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
 * The newest time step at which `code` is valid for `secret` around `at`, or
 * null. One step of drift is accepted either side (RFC 6238 §5.2); replay is
 * the caller's business (it compares the step with the last accepted one).
 *
 * The newest, because two steps of one window share their 6-digit code about
 * once in a million pairs. Accepting the code spends the newest step that
 * shows it (every step up to it, as steps only move forward), so the same
 * digits are never accepted twice while any step showing them is in the
 * window; and a step spent earlier does not hide a fresh, later step that
 * shows the same code (the oldest match would, and called it a replay).
 */
export function matchTotp(secret: Uint8Array, code: string, at: Date): number | null {
  // Newest first, each step with otplib's generate: its verify scans oldest first and stops at the
  // first match, and asking it again past each match cost twice this scan's CPU for a right code
  // (44 µs against 23, measured alone).
  const current = timeStepAt(at);
  for (let step = current + 1; step >= Math.max(0, current - 1); step -= 1) {
    if (isTotpAtStep(secret, code, step)) return step;
  }
  return null;
}

/** The code an authenticator app shows at `at`. */
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
