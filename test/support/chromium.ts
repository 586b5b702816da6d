/**
 * Debian's Chromium for the browser tests and the demo's screenshots, driven
 * by playwright-core (Playwright's own browser download cannot work on a
 * closed network). Missing Chromium is installed when this runs as root (as
 * CI does); otherwise it is a loud failure with the command to run.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const run = promisify(execFile);

export const CHROMIUM = '/usr/bin/chromium';
const INSTALL = 'apt-get install -y chromium';

// Without the background-networking flags Chromium stalls on a closed network (update checks, field trials).
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function installed(): Promise<boolean> {
  return access(CHROMIUM).then(
    () => true,
    () => false,
  );
}

/** Makes sure /usr/bin/chromium exists: installs Debian's package as root, else fails with the command. */
export async function ensureChromium(log: (line: string) => void = () => {}): Promise<void> {
  if (await installed()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Chromium is not installed (${CHROMIUM}). The browser tests need Debian's package: sudo ${INSTALL}`);
  }
  log(`${CHROMIUM} is missing: ${INSTALL} (once; about a minute)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => run('apt-get', args, { env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  try {
    await apt(['install', '-y', 'chromium']);
  } catch {
    // A fresh machine may have no package lists yet.
    await apt(['update']);
    await apt(['install', '-y', 'chromium']).catch((error: { stderr?: string }) => {
      throw new Error(`${INSTALL} failed:\n${error.stderr ?? String(error)}`);
    });
  }
  if (!(await installed())) throw new Error(`${INSTALL} succeeded but ${CHROMIUM} is still missing`);
}

/** Starts one headless Chromium (a fresh profile in a temp dir, removed when it closes). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
