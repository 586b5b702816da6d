import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS with an `exports.default`; under NodeNext the default import is the module object.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule.default }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

/** Reads a QR code from a PNG, as a phone camera would (jsQR). Null when unreadable. */
export function decodePng(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

/** Reads a QR code from the qrcode package's SVG (one stroked path of horizontal runs). */
export function decodeSvg(svg: string): string | null {
  const size = Number(/viewBox="0 0 (\d+) (\d+)"/.exec(svg)?.[1]);
  const path = /<path[^>]*stroke="#000000"[^>]*d="([^"]+)"/.exec(svg)?.[1] ?? /<path[^>]*d="([^"]+)"[^>]*stroke="#000000"/.exec(svg)?.[1];
  if (!size || !path) return null;
  const dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  let x = 0;
  let y = 0;
  for (const [, op, a, b] of path.matchAll(/([MmHhVv])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?/g)) {
    const n = Number(a);
    if (op === 'M') [x, y] = [n, Number(b)];
    else if (op === 'm') [x, y] = [x + n, y + Number(b)];
    else if (op === 'h') {
      for (let i = 0; i < n; i += 1) dark[Math.floor(y)]![x + i] = true;
      x += n;
    }
  }
  return decodeMatrix(dark);
}

/**
 * Reads a QR code drawn with half-block characters (two module rows per text
 * line), as the terminal renderings draw it: ANSI black on white, where a
 * block drawn in white (37) is light. `margin` light modules are added around
 * it first (0: decode it exactly as drawn, quiet zone and all).
 */
export function decodeText(text: string, margin = 4): string | null {
  return decodeMatrix(textModules(text), 4, margin);
}

/** The modules of a half-block drawing, row by row, true for dark. */
export function textModules(text: string): boolean[][] {
  const rows: boolean[][] = [];
  for (const line of text.split('\n')) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    let foreground = '30';
    for (const [, escape, char] of line.matchAll(/\u001b\[([0-9;]*)m|(.)/gu)) {
      if (escape !== undefined) {
        if (escape === '30' || escape === '37') foreground = escape;
        continue;
      }
      const ink = foreground === '30';
      top.push(ink && (char === '█' || char === '▀'));
      bottom.push(ink && (char === '█' || char === '▄'));
    }
    if (top.length > 0) rows.push(top, bottom);
  }
  return rows;
}

function decodeMatrix(dark: boolean[][], scale = 4, marginModules = 4): string | null {
  const height = dark.length * scale;
  const width = Math.max(...dark.map((row) => row.length)) * scale;
  const margin = marginModules * scale;
  const w = width + 2 * margin;
  const h = height + 2 * margin;
  const pixels = new Uint8ClampedArray(w * h * 4).fill(255);
  for (let r = 0; r < dark.length; r += 1) {
    for (let c = 0; c < dark[r]!.length; c += 1) {
      if (!dark[r]![c]) continue;
      for (let dy = 0; dy < scale; dy += 1) {
        for (let dx = 0; dx < scale; dx += 1) {
          const i = ((margin + r * scale + dy) * w + margin + c * scale + dx) * 4;
          pixels[i] = pixels[i + 1] = pixels[i + 2] = 0;
        }
      }
    }
  }
  return jsQR(pixels, w, h, { inversionAttempts: 'attemptBoth' })?.data ?? null;
}
