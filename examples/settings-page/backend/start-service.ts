/**
 * Starts this repository's service (dist/main.js, built by `npm ci`) as a
 * child process for the demo, on a free port of 127.0.0.1, with three
 * callers of its own: the settings page, a support console (admin) and a
 * notifications follower (event caller). A real settings page calls a
 * service that runs elsewhere (MFA_ADDR); this is only the demo's convenience.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExternalService } from './demo-config.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The started service: how to call it, and how to stop it. */
export interface StartedService extends ExternalService {
  /** Where its log goes. */
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the service for a page on http://localhost:`pagePort`: security keys
 * are bound to that origin (MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS, unless
 * the environment sets them).
 */
export async function startService(pagePort: number, env: NodeJS.ProcessEnv = process.env): Promise<StartedService> {
  const [token, adminToken, eventsToken] = [1, 2, 3].map(() => randomBytes(24).toString('hex'));
  const logFile = join(ROOT, '.tmp', 'settings-page', `service-${process.pid}.log`);
  await mkdir(dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...env,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      LOG_FORMAT: 'json',
      MFA_ISSUER: env['MFA_ISSUER'] ?? 'Settings page demo',
      MFA_AUTH_TOKENS: `settings-page:${token},support-console:${adminToken},notifications:${eventsToken}`,
      MFA_ADMIN_CALLERS: 'support-console',
      MFA_EVENT_CALLERS: 'notifications',
      MFA_WEBAUTHN_RP_ID: env['MFA_WEBAUTHN_RP_ID'] || 'localhost',
      MFA_WEBAUTHN_ORIGINS: env['MFA_WEBAUTHN_ORIGINS'] || `http://localhost:${pagePort}`,
    },
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  // However the demo ends, its service ends with it.
  const kill = () => child.kill('SIGTERM');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));

  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"msg":"mfa-service listening"') && l.endsWith('}'));
      if (line === undefined) return;
      // Started: from here on its output goes to the log file only.
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      resolve((JSON.parse(line) as { port: number }).port);
    };
    const onExit = (code: number | null) => {
      // A configuration error is one line starting "mfa-service:"; show it as it is.
      const reason = output.split('\n').find((line) => line.startsWith('mfa-service:')) ?? `exit code ${code}; see ${logFile}`;
      reject(new Error(`the MFA service did not start: ${reason}`));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });

  const address = `127.0.0.1:${port}`;
  return {
    address,
    token,
    adminToken,
    eventsToken,
    logFile,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
