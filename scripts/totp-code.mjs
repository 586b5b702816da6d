#!/usr/bin/env node
/**
 * Prints the code an authenticator app shows now for a base32 secret (RFC 6238:
 * HMAC-SHA-1, 6 digits, 30-second periods), for trying the service without a
 * phone:
 *   node scripts/totp-code.mjs JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
 *
 * The service accepts a code once, and no older one after it (RFC 6238 §5.2),
 * so this remembers the last period it printed a code of (a hash of the
 * secret and the period, in the temp dir, never the secret). Asked again
 * within that period, it prints the next period's code at once: the service
 * accepts a code up to one period early (one period of drift either side).
 * Only a third code within one period waits, for the next period. It also
 * skips a period whose code is the same as the last one printed (about once
 * in a million): the service spends every step of its window that shows an
 * accepted code.
 *
 * Plain Node with node:crypto, no TypeScript loader: it answers in well under
 * half a second.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PERIOD_MS = 30_000;
const DIGITS = 6;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const input = process.argv[2] ?? '';
if (!/^[A-Z2-7]+=*$/i.test(input)) {
  process.stderr.write('usage: node scripts/totp-code.mjs <base32 secret from BeginTotpEnrollment>\n');
  process.exit(2);
}
const secret = input.toUpperCase().replace(/=+$/, '');

/** RFC 4648 base32 to bytes. */
function decodeBase32(text) {
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    buffer = (buffer << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 §5.3 HOTP of the time step: dynamic truncation of HMAC-SHA-1. */
function codeAt(step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const hmac = createHmac('sha1', decodeBase32(secret)).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0x0f;
  const value = hmac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 10 ** DIGITS).padStart(DIGITS, '0');
}

const stateDir = join(tmpdir(), 'mfa-totp-code');
const stateFile = join(stateDir, createHash('sha256').update(secret).digest('hex').slice(0, 32));
let lastStep = -1;
try {
  lastStep = Number(readFileSync(stateFile, 'utf8'));
} catch {
  // no code printed for this secret yet
}

// The newest period the service may have spent with the code printed last: it spends the newest
// period of its window that shows an accepted code, and that window ends two periods past the
// printed one at the latest.
let spentUpTo = lastStep;
if (Number.isSafeInteger(lastStep) && lastStep >= 0) {
  for (const later of [lastStep + 1, lastStep + 2]) if (codeAt(later) === codeAt(lastStep)) spentUpTo = later;
}

// The service's window reaches one period past the current one, so the next period's code is usable now.
const currentStep = () => Math.floor(Date.now() / PERIOD_MS);
const step = Math.max(currentStep(), spentUpTo + 1);
while (step > currentStep() + 1) {
  const waitMs = (step - 1) * PERIOD_MS - Date.now();
  process.stderr.write(`totp-code: the codes of this period and the next were printed already; waiting ${Math.ceil(waitMs / 1000)} s for the next one\n`);
  await sleep(waitMs + 50);
}
mkdirSync(stateDir, { recursive: true, mode: 0o700 });
writeFileSync(stateFile, String(step));
process.stdout.write(`${codeAt(step)}\n`);
