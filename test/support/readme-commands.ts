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
