import QRCode from 'qrcode';

/** The three renderings of one otpauth URI that BeginTotpEnrollment returns. */
export interface QrCodes {
  readonly png: Buffer;
  readonly svg: string;
  /** Drawn with half-block characters: two modules a line, printable in a terminal. */
  readonly text: string;
}

// Level M (15% recovery) is what authenticator apps scan reliably from a screen;
// a 4-module quiet zone is what ISO/IEC 18004 asks for.
const OPTIONS = { errorCorrectionLevel: 'M', margin: 4 } as const;

export async function renderQrCodes(uri: string): Promise<QrCodes> {
  const [png, svg, text] = await Promise.all([
    QRCode.toBuffer(uri, { ...OPTIONS, type: 'png', scale: 4 }),
    QRCode.toString(uri, { ...OPTIONS, type: 'svg' }),
    QRCode.toString(uri, { ...OPTIONS, type: 'terminal', small: true }),
  ]);
  return { png, svg, text };
}
