import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import { bilevelScanlineBytes, encodeBilevelPng } from './bilevel-png.js';

/** The three renderings of one otpauth URI that BeginTotpEnrollment returns. */
export interface QrCodes {
  readonly png: Buffer;
  readonly svg: string;
  /** Drawn with half-block characters: two modules a line, printable in a terminal. */
  readonly text: string;
}

interface QrData {
  readonly modules: { readonly size: number; readonly data: Uint8Array };
}

// qrcode's own SVG and terminal renderers, called with one encoded symbol
// instead of re-encoding the URI for each format (its public toString would).
// Their module paths are stable within qrcode 1.5.x, which package.json pins.
const require = createRequire(import.meta.url);
const svgRenderer = require('qrcode/lib/renderer/svg-tag.js') as { render(qr: QrData, options: object): string };
const textRenderer = require('qrcode/lib/renderer/terminal/terminal-small.js') as { render(qr: QrData, options: object): string };

// Level M (15% recovery) is what authenticator apps scan reliably from a screen;
// a 4-module quiet zone is what ISO/IEC 18004 asks for.
const ERROR_CORRECTION = 'M';
const MARGIN = 4;
const PNG_SCALE = 4;

/** Encodes `uri` once and renders it as PNG, SVG and terminal text. */
export function renderQrCodes(uri: string): QrCodes {
  const qr = QRCode.create(segments(uri) as unknown as string, { errorCorrectionLevel: ERROR_CORRECTION }) as unknown as QrData;
  return {
    png: renderPng(qr),
    svg: svgRenderer.render(qr, { margin: MARGIN }),
    text: textRenderer.render(qr, { margin: MARGIN, small: true }),
  };
}

// Runs of QR alphanumeric-mode characters long enough to repay a mode switch
// (about 10 characters at 2.5 bits saved each); in an otpauth URI, the Base32 secret.
const ALPHANUMERIC_RUN = /[0-9A-Z $%*+\-./:]{16,}/g;

/**
 * The URI as byte-mode segments around its long alphanumeric runs. Given a
 * plain string, qrcode searches for the optimal segmentation with Dijkstra
 * over every character (about 0.25 ms, a third of the encoding); for otpauth
 * URIs this gives the same symbol version in every case tried.
 */
function segments(text: string): Array<{ data: string; mode: 'byte' | 'alphanumeric' }> {
  const found: Array<{ data: string; mode: 'byte' | 'alphanumeric' }> = [];
  let last = 0;
  for (const match of text.matchAll(ALPHANUMERIC_RUN)) {
    if (match.index > last) found.push({ data: text.slice(last, match.index), mode: 'byte' });
    found.push({ data: match[0], mode: 'alphanumeric' });
    last = match.index + match[0].length;
  }
  if (last < text.length) found.push({ data: text.slice(last), mode: 'byte' });
  return found;
}

/** A 1-bit PNG, PNG_SCALE pixels a module: each module row is drawn once and copied PNG_SCALE times. */
function renderPng(qr: QrData): Buffer {
  const { size, data } = qr.modules;
  const width = (size + 2 * MARGIN) * PNG_SCALE;
  const lineBytes = bilevelScanlineBytes(width);
  // Filter byte 0 and every pixel white (1); dark pixels get their bit cleared.
  const scanlines = Buffer.alloc(lineBytes * width, 0xff);
  for (let line = 0; line < width; line += 1) scanlines[line * lineBytes] = 0;
  for (let row = 0; row < size; row += 1) {
    const first = (MARGIN + row) * PNG_SCALE * lineBytes;
    for (let column = 0; column < size; column += 1) {
      if (!data[row * size + column]) continue;
      for (let x = (MARGIN + column) * PNG_SCALE, end = x + PNG_SCALE; x < end; x += 1) {
        scanlines[first + 1 + (x >> 3)]! &= ~(0x80 >> (x & 7));
      }
    }
    for (let copy = 1; copy < PNG_SCALE; copy += 1) scanlines.copy(scanlines, first + copy * lineBytes, first, first + lineBytes);
  }
  return encodeBilevelPng(width, width, scanlines);
}
