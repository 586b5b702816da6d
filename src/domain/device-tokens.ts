import { createHash } from 'node:crypto';
import type { RandomBytes } from './clock.js';

const TOKEN_BYTES = 32; // 256 bits: unguessable, so a plain SHA-256 is a safe stored form
const DEVICE_ID_BYTES = 12;
/** What mintDevice makes: a device id is never anything else (it is also a MongoDB field name). */
export const DEVICE_ID_PATTERN = /^dev_[A-Za-z0-9_-]{16}$/;

/** A freshly minted device token (returned once) and what is stored of it. */
export interface MintedDevice {
  readonly deviceId: string;
  readonly token: string;
  readonly tokenHash: string;
}

export function mintDevice(random: RandomBytes): MintedDevice {
  const token = random(TOKEN_BYTES).toString('base64url');
  return { deviceId: `dev_${random(DEVICE_ID_BYTES).toString('base64url')}`, token, tokenHash: hashDeviceToken(token) };
}

export function hashDeviceToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
