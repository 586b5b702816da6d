/** A QR symbol's modules: `size` x `size`, row by row, truthy for dark. */
export interface QrModules {
  readonly size: number;
  readonly data: ArrayLike<number | boolean>;
}

// Black on a white background, whatever the terminal's own colours: a phone
// camera needs dark modules on a light field, also on a dark-themed terminal.
const LINE_START = '\u001b[47m\u001b[30m';
const LINE_END = '\u001b[0m';
// Two module rows a character: top and bottom half dark, top only, bottom only, neither.
const BOTH = '█';
const TOP = '▀';
const BOTTOM = '▄';
const NEITHER = ' ';

/**
 * Draws a QR symbol with half-block characters, two module rows a line, with
 * a light quiet zone of `margin` modules on every side (ISO/IEC 18004 asks
 * for 4). qrcode's own small terminal renderer draws a 1-module border and
 * ignores its margin option. An odd number of rows leaves the last line's
 * lower half light too: one module more quiet zone at the bottom.
 */
export function renderTerminalQr(modules: QrModules, margin: number): string {
  const { size, data } = modules;
  const extent = size + 2 * margin;
  const dark = (row: number, column: number) => {
    const r = row - margin;
    const c = column - margin;
    return r >= 0 && r < size && c >= 0 && c < size && Boolean(data[r * size + c]);
  };
  const lines: string[] = [];
  for (let row = 0; row < extent; row += 2) {
    let line = LINE_START;
    for (let column = 0; column < extent; column += 1) {
      const top = dark(row, column);
      const bottom = dark(row + 1, column);
      line += top ? (bottom ? BOTH : TOP) : bottom ? BOTTOM : NEITHER;
    }
    lines.push(line + LINE_END);
  }
  return `${lines.join('\n')}\n`;
}
