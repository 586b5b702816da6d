import { createRequire } from 'node:module';
import QRCode from 'qrcode';
import { bilevelScanlineBytes, encodeBilevelPng } from './bilevel-png.js';
import { renderTerminalQr } from './terminal-qr.js';

/** A rendering of the QR code that BeginTotpEnrollment can return. */
export type QrFormat = 'png' | 'svg' | 'text';

export const ALL_QR_FORMATS: ReadonlySet<QrFormat> = new Set(['png', 'svg', 'text']);

/** The renderings of one otpauth URI that BeginTotpEnrollment returns; null for one not asked for. */
export interface QrCodes {
  readonly png: Buffer | null;
  readonly svg: string | null;
  /** Drawn with half-block characters: two module rows a line, printable in a terminal. */
  readonly text: string | null;
}

interface QrData {
  readonly modules: { readonly size: number; readonly data: Uint8Array };
  readonly version: number;
  readonly errorCorrectionLevel: unknown;
  readonly segments: ReadonlyArray<{ readonly mode: unknown; getBitsLength(): number }>;
}

// qrcode's own SVG renderer, called with one encoded symbol instead of
// re-encoding the URI for each format (its public toString would). Its module
// path is stable within qrcode 1.5.x, which package.json pins.
const require = createRequire(import.meta.url);
const svgRenderer = require('qrcode/lib/renderer/svg-tag.js') as { render(qr: QrData, options: object): string };
// And its tables of segment header sizes and symbol capacities, to tell when a symbol is near a version boundary.
const modes = require('qrcode/lib/core/mode.js') as { getCharCountIndicator(mode: unknown, version: number): number };
const symbols = require('qrcode/lib/core/utils.js') as { getSymbolTotalCodewords(version: number): number };
const errorCorrection = require('qrcode/lib/core/error-correction-code.js') as { getTotalCodewordsCount(version: number, level: unknown): number };

// Level M (15% recovery) is what authenticator apps scan reliably from a screen;
// a 4-module quiet zone is what ISO/IEC 18004 asks for.
const ERROR_CORRECTION = 'M';
const MARGIN = 4;
const PNG_SCALE = 4;

/**
 * Encodes `uri` once (the costly part: qrcode scores all eight mask patterns)
 * and renders that one symbol in each of `formats`.
 */
export function renderQrCodes(uri: string, formats: ReadonlySet<QrFormat> = ALL_QR_FORMATS): QrCodes {
  const qr = encode(uri);
  return {
    png: formats.has('png') ? renderPng(qr) : null,
    svg: formats.has('svg') ? svgRenderer.render(qr, { margin: MARGIN }) : null,
    text: formats.has('text') ? renderTerminalQr(qr.modules, MARGIN) : null,
  };
}

// In a fuzz of 6,000 otpauth URIs the segments below took at most 10 bits more than the optimal ones.
const NEAR_BOUNDARY_BITS = 32;

/**
 * The symbol for `uri` from the segments below; near a version boundary, where
 * the optimal segmentation might fit one version lower, also qrcode's own
 * search, and the smaller of the two.
 */
function encode(uri: string): QrData {
  const qr = QRCode.create(segments(uri), { errorCorrectionLevel: ERROR_CORRECTION }) as unknown as QrData;
  if (qr.version === 1 || bitsOverCapacity(qr, qr.version - 1) > NEAR_BOUNDARY_BITS) return qr;
  const optimal = QRCode.create(uri, { errorCorrectionLevel: ERROR_CORRECTION }) as unknown as QrData;
  return optimal.version < qr.version ? optimal : qr;
}

/** How many bits `qr`'s segments would lack to fit in `version`. */
function bitsOverCapacity(qr: QrData, version: number): number {
  const bits = qr.segments.reduce((sum, segment) => sum + 4 + modes.getCharCountIndicator(segment.mode, version) + segment.getBitsLength(), 0);
  const capacity = (symbols.getSymbolTotalCodewords(version) - errorCorrection.getTotalCodewordsCount(version, qr.errorCorrectionLevel)) * 8;
  return bits - capacity;
}

// QR alphanumeric mode holds these characters at 5.5 bits each; byte mode takes 8.
const ALPHANUMERIC_RUN = /[0-9A-Z $%*+\-./:]+/g;
// Versions 1-9 at level M hold at most 180 bytes; above that the character-count fields are longer.
const SMALL_SYMBOL_BYTES = 180;

type Segment = { data: Uint8Array; mode: 'byte' } | { data: string; mode: 'alphanumeric' };

/**
 * The text as byte-mode segments around its alphanumeric runs long enough to
 * repay a mode switch: the 2.5 bits a character saves must beat the extra
 * segment headers (4-bit modes and character counts: 25 bits in versions 1-9,
 * 35 above, hence runs of 11 and 15). In an otpauth URI that is the Base32
 * secret and the odd upper-case label. Given a plain string, qrcode searches
 * for the optimal segmentation with Dijkstra over every character (about
 * 0.25 ms, a third of the encoding); encode() falls back to it near a version
 * boundary, and the unit test compares the two.
 */
function segments(text: string): Segment[] {
  const minRun = Buffer.byteLength(text) <= SMALL_SYMBOL_BYTES ? 11 : 15;
  const found: Segment[] = [];
  let last = 0;
  const byte = (end: number) => {
    if (end > last) found.push({ data: Buffer.from(text.slice(last, end)), mode: 'byte' });
  };
  for (const match of text.matchAll(ALPHANUMERIC_RUN)) {
    if (match[0].length < minRun) continue;
    byte(match.index);
    found.push({ data: match[0], mode: 'alphanumeric' });
    last = match.index + match[0].length;
  }
  byte(text.length);
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
