import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { bilevelScanlineBytes, encodeBilevelPng } from '../../src/domain/bilevel-png.js';
import { renderQrCodes } from '../../src/domain/qr-code.js';
import { encodeSecret, otpauthUri } from '../../src/domain/totp.js';
import { decodePng, decodeSvg, decodeText, textModules } from '../support/qr-decode.js';

/** mulberry32: a small seeded generator, so the generated labels are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('QR codes', () => {
  describe('renderQrCodes', () => {
    // Short and long labels, non-ASCII; secrets as random-looking as the service's (SHA-1 of a seed, to stay repeatable).
    const secret = (seed: string) => encodeSecret(createHash('sha1').update(seed).digest());
    const uris = [
      otpauthUri({ issuer: 'ACME', accountName: 'a', secret: secret('1') }),
      otpauthUri({ issuer: 'MFA Service', accountName: 'alice@example.com', secret: secret('2') }),
      otpauthUri({ issuer: 'Société Générale', accountName: 'zoë+tést@exämple.com', secret: secret('3') }),
      otpauthUri({ issuer: 'Example Corp', accountName: `${'long-name.'.repeat(20)}@example.com`, secret: secret('4') }),
    ];

    it('draws the URI in all three renderings, each readable by a QR decoder', () => {
      for (const uri of uris) {
        const codes = renderQrCodes(uri);
        expect(decodePng(codes.png!), uri).to.equal(uri);
        expect(decodeSvg(codes.svg!), uri).to.equal(uri);
        expect(decodeText(codes.text!), uri).to.equal(uri);
      }
    });

    it('makes only the renderings asked for, each of the same symbol', () => {
      const uri = uris[1]!;
      const all = renderQrCodes(uri);
      const png = renderQrCodes(uri, new Set(['png']));
      expect([png.svg, png.text]).to.deep.equal([null, null]);
      expect(decodePng(png.png!)).to.equal(uri);
      expect(png.png!.equals(all.png!), 'PNG as when all are asked for').to.equal(true);
      const svgAndText = renderQrCodes(uri, new Set(['svg', 'text']));
      expect(svgAndText.png).to.equal(null);
      expect([decodeSvg(svgAndText.svg!), decodeText(svgAndText.text!)]).to.deep.equal([uri, uri]);
      expect([svgAndText.svg, svgAndText.text]).to.deep.equal([all.svg, all.text]);
    });

    it('draws the terminal QR code with a light quiet zone of 4 modules on every side (ISO/IEC 18004)', () => {
      for (const uri of uris) {
        const text = renderQrCodes(uri).text!;
        const symbolSize = (QRCode.create(uri, { errorCorrectionLevel: 'M' }) as unknown as { modules: { size: number } }).modules.size;
        const rows = textModules(text);
        const width = rows[0]!.length;
        // 4 modules each side; an odd height gets one light row more at the bottom.
        expect(width, uri).to.be.at.most(symbolSize + 8);
        expect(rows.every((row) => row.length === width), 'rows of one width').to.equal(true);
        const darkAt = (row: number, column: number) => rows[row]![column]!;
        const darkRows = rows.map((row, r) => (row.some(Boolean) ? r : -1)).filter((r) => r >= 0);
        const darkColumns = Array.from({ length: width }, (_, c) => c).filter((c) => rows.some((_, r) => darkAt(r, c)));
        expect(darkRows[0], `top quiet zone of ${uri}`).to.equal(4);
        expect(darkColumns[0], `left quiet zone of ${uri}`).to.equal(4);
        expect(width - 1 - darkColumns.at(-1)!, `right quiet zone of ${uri}`).to.equal(4);
        expect(rows.length - 1 - darkRows.at(-1)!, `bottom quiet zone of ${uri}`).to.be.within(4, 5);
        // Readable as drawn, with no margin added by the decoder.
        expect(decodeText(text, 0), uri).to.equal(uri);
      }
    });

    it('needs no larger a symbol than qrcode\'s own optimal segmentation', () => {
      // Labels of the shapes that once came out a version larger (a 14-character upper-case run;
      // percent-encoded UTF-8 near a version boundary), then 300 seeded email-style labels.
      const cases = [
        ...uris,
        otpauthUri({ issuer: 'ACME', accountName: 'r_anjnmgqp@EXAMPLE.COM', secret: secret('5') }),
        otpauthUri({ issuer: 'MFA Service', accountName: 'okfüø38dblqlekno6oq76ded1x7lié-@exämple.de', secret: secret('6') }),
      ];
      const random = seededRandom(4);
      const pick = (chars: string) => chars[Math.floor(random() * chars.length)]!;
      for (let i = 0; i < 300; i += 1) {
        let local = Array.from({ length: 3 + Math.floor(random() * 40) }, () => (random() < 0.1 ? pick('éüøñ日') : pick('abcdefghijklmnopqrstuvwxyz0123456789._-'))).join('');
        if (random() < 0.3) local = local.toUpperCase();
        const domain = ['example.com', 'EXAMPLE.COM', 'exämple.de'][Math.floor(random() * 3)];
        cases.push(otpauthUri({ issuer: ['ACME', 'MFA Service', 'Zürich AG'][i % 3]!, accountName: `${local}@${domain}`, secret: secret(`seed-${i}`) }));
      }
      for (const uri of cases) {
        const optimal = QRCode.create(uri, { errorCorrectionLevel: 'M' }) as unknown as { modules: { size: number } };
        const image = PNG.sync.read(renderQrCodes(uri).png!);
        // 4 pixels a module and a 4-module quiet zone on each side.
        expect(image.width / 4 - 8, uri).to.be.at.most(optimal.modules.size);
      }
    });

    it('makes a 1-bit grayscale PNG', () => {
      const png = renderQrCodes(uris[1]!).png!;
      // IHDR data starts at byte 16: width, height, bit depth, colour type.
      expect(png[24], 'bit depth').to.equal(1);
      expect(png[25], 'colour type').to.equal(0);
    });
  });

  describe('encodeBilevelPng', () => {
    it('encodes pixels that a PNG decoder reads back, white as 1 and black as 0', () => {
      // 10 x 3: a row of black, a checkerboard, a row of white (10 pixels: the second byte is partly padding).
      const width = 10;
      const lines = Buffer.from([0, 0x00, 0x00, 0, 0x55, 0x40, 0, 0xff, 0xc0]);
      expect(lines.length).to.equal(3 * bilevelScanlineBytes(width));
      const image = PNG.sync.read(encodeBilevelPng(width, 3, lines));
      const gray = (x: number, y: number) => image.data[(y * width + x) * 4];
      expect([image.width, image.height]).to.deep.equal([10, 3]);
      for (let x = 0; x < width; x += 1) {
        expect(gray(x, 0), `(${x}, 0)`).to.equal(0);
        expect(gray(x, 1), `(${x}, 1)`).to.equal(x % 2 === 0 ? 0 : 255);
        expect(gray(x, 2), `(${x}, 2)`).to.equal(255);
      }
    });

    it('refuses scanlines of the wrong length, and an empty image', () => {
      expect(() => encodeBilevelPng(10, 3, Buffer.alloc(8))).to.throw(RangeError);
      expect(() => encodeBilevelPng(0, 0, Buffer.alloc(0))).to.throw(RangeError);
    });
  });
});
