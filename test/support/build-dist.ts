import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOCK = join(ROOT, '.tmp', 'build-dist.lock');
const run = promisify(execFile);

/**
 * `npm run build` (tsc -b into dist/), one at a time across mocha's parallel
 * workers: two builds writing dist/ at once could leave a file half written
 * for the other's test. A lock directory, as mkdir is atomic; a stale one (a
 * killed run) is taken over after `timeoutMs`.
 */
export async function buildDist(timeoutMs = 170_000): Promise<void> {
  await mkdir(dirname(LOCK), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await run('npm', ['run', 'build'], { cwd: ROOT, timeout: timeoutMs });
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}
