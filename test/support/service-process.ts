import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../../dev/child-process.js';
import { freePort } from '../../dev/free-port.js';
import { connectClient, type MfaClient } from './grpc-client.js';
import { TEST_KEYS } from './test-service.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The service running as its own process (`node src/main.ts` through tsx), as in production. */
export interface ServiceProcess {
  readonly port: number;
  readonly client: MfaClient;
  /** Everything the process wrote to stdout and stderr. */
  readonly output: () => string;
  /** SIGTERM, and wait for the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal and returns the exit code when the process has ended; the client stays open. */
  signal(name: NodeJS.Signals): Promise<number | null>;
}

function spawnService(env: Record<string, string>, port: number): Child {
  // As npm start and the Dockerfile start it: the tracing preload first (it does nothing unless OTEL_* asks for traces).
  return startChild(process.execPath, ['--import', 'tsx', '--import', './src/tracing/preload.ts', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port), MFA_ENCRYPTION_KEYS: TEST_KEYS, ...env },
  });
}

/** Runs the service process with `env` when it is expected to fail at start-up: its exit code and everything it wrote. */
export async function runFailingStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnService(env, await freePort());
  const timer = setTimeout(() => child.signal('SIGKILL'), 30_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output() };
}

export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawnService(env, port);
  await child.waitUntil('the service process', () => child.output().includes('mfa-service listening'), 30_000);
  const client = connectClient(port);
  return {
    port,
    client,
    output: child.output,
    signal: (name) => {
      child.signal(name);
      return child.exited;
    },
    stop: async () => {
      client.close();
      // SIGTERM only, no SIGKILL after a grace: tests check the exit code of a graceful shutdown.
      if (child.process.exitCode === null) child.signal('SIGTERM');
      return child.exited;
    },
  };
}
