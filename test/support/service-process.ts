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

export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
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
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within 30 s:\n${output}`)), 30_000);
    const onData = () => {
      if (output.includes('mfa-service listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before listening:\n${output}`));
    });
  });
  const client = connectClient(port);
  return {
    port,
    client,
    output: () => output,
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
