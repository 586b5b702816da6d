import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

function spawnService(env: Record<string, string>, port: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  // As npm start and the Dockerfile start it: the tracing preload first (it does nothing unless OTEL_* asks for traces).
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '--import', './src/tracing/preload.ts', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port), MFA_ENCRYPTION_KEYS: TEST_KEYS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Runs the service process with `env` when it is expected to fail at start-up: its exit code and everything it wrote. */
export async function runFailingStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { child, output, exited } = spawnService(env, await freePort());
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const { child, output, exited } = spawnService(env, port);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within 30 s:\n${output()}`)), 30_000);
    const onData = () => {
      if (output().includes('mfa-service listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening:\n${output()}`));
    });
  });
  const client = connectClient(port);
  return {
    port,
    client,
    output,
    signal: (name) => {
      child.kill(name);
      return exited;
    },
    stop: async () => {
      client.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
