import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

/** Every `grpcurl …` command in the README's ```sh blocks, with continuation lines joined and comments dropped. */
export function readmeGrpcurlCommands(): string[] {
  const commands: string[] = [];
  let inShell = false;
  let pending = '';
  for (const line of readFileSync(README, 'utf8').split('\n')) {
    if (line.startsWith('```')) {
      inShell = !inShell && line.trim() === '```sh';
      pending = '';
      continue;
    }
    if (!inShell) continue;
    const text = pending + line.trim();
    if (text.endsWith('\\')) {
      pending = `${text.slice(0, -1).trimEnd()} `;
      continue;
    }
    pending = '';
    if (text.startsWith('grpcurl ')) commands.push(text.replace(/\s+#.*$/, ''));
  }
  return commands;
}

/**
 * The command lines of the README's ```sh blocks between two lines (e.g. HTML
 * comments that mark a region), trimmed, without blank lines, comment lines
 * and trailing `  # comments`; continuation lines stay separate lines.
 */
export function readmeShellLinesBetween(startMarker: string, endMarker: string): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker, start);
  if (start < 0 || end < 0) throw new Error(`README.md has no region between "${startMarker}" and "${endMarker}"`);
  const lines: string[] = [];
  let inShell = false;
  for (const line of text.slice(start, end).split('\n')) {
    if (line.startsWith('```')) {
      inShell = !inShell && line.trim() === '```sh';
      continue;
    }
    const command = line.replace(/\s{2,}#.*$/, '').trim();
    if (inShell && command !== '' && !command.startsWith('#')) lines.push(command);
  }
  return lines;
}
