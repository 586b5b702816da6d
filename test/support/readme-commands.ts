import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const README = join(ROOT, 'README.md');

/** The README and every page of docs/, whose commands the tests run. */
export function documentationFiles(): string[] {
  const docs = join(ROOT, 'docs');
  return [README, ...readdirSync(docs).filter((name) => name.endsWith('.md')).sort().map((name) => join(docs, name))];
}

/** Every `grpcurl …` command in the ```sh blocks of the README and docs/*.md, with continuation lines joined and comments dropped. */
export function documentedGrpcurlCommands(): string[] {
  return documentationFiles().flatMap((file) => grpcurlCommandsOf(readFileSync(file, 'utf8')));
}

/** Every `grpcurl …` command in a Markdown text's ```sh blocks. */
function grpcurlCommandsOf(markdown: string): string[] {
  const commands: string[] = [];
  let inShell = false;
  let pending = '';
  for (const line of markdown.split('\n')) {
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
