import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const GRAYSCALE = 0;
const BIT_DEPTH = 1;
// Level 1: about 30 us instead of 90 us (zlib's default, 6) for a QR code's
// 7 KB of scanlines, for a file of about 750 bytes instead of 580.
const DEFLATE_LEVEL = 1;

/** Bytes of one scanline of a 1-bit image `width` pixels wide: the filter-type byte, then the pixels, 8 to a byte. */
export function bilevelScanlineBytes(width: number): number {
  return 1 + Math.ceil(width / 8);
}

/**
 * A 1-bit grayscale PNG (ISO/IEC 15948: colour type 0, bit depth 1, no
 * interlace). `scanlines` holds `height` rows of bilevelScanlineBytes(width)
 * bytes, each a filter-type byte (0: none) and then the pixels, most
 * significant bit first, 1 for white.
 *
 * Written here rather than with pngjs, which encodes 8- and 16-bit images
 * only: a QR code is black and white, and at one bit a pixel the image
 * deflates about 8 times faster and ends up smaller.
 */
export function encodeBilevelPng(width: number, height: number, scanlines: Buffer): Buffer {
  if (!(width >= 1 && height >= 1)) throw new RangeError('a PNG is at least 1 x 1 pixels');
  if (scanlines.length !== height * bilevelScanlineBytes(width)) throw new RangeError('scanlines do not match width x height');
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = BIT_DEPTH;
  header[9] = GRAYSCALE;
  // Bytes 10-12: compression 0 (deflate), filter method 0, interlace 0 (none).
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(scanlines, { level: DEFLATE_LEVEL })), chunk('IEND', Buffer.alloc(0))]);
}

/** length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
