import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isServing } from './clients.js';

/** The service under test, running as its own compiled process. */
export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** What it wrote to stdout and stderr so far (LOG_LEVEL=warn keeps this short). */
  output(): string;
  /** SIGTERM and wait for the exit (SIGKILL after 10 s); resolves to the exit code. */
  stop(): Promise<number | null>;
}

const STARTUP_TIMEOUT_MS = 30_000;

/**
 * Compiles src/ with tsconfig.build.json into a private directory under the
 * git-ignored .tmp/, so tsx is not part of the measurement and a concurrent
 * `npm run build` is not disturbed. Type errors are printed but do not stop the
 * benchmark (`npm test` is the type gate); a missing main.js does.
 */
export async function buildServer(root: string): Promise<string> {
  const outDir = join(root, '.tmp', `bench-build-${process.pid}`);
  process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) process.stderr.write(`bench: warning: tsc reported errors; benchmarking the emitted JavaScript anyway:\n${output}\n`);
  return join(outDir, 'main.js');
}

/**
 * Starts `node <mainJs>` with `env` on `port` and resolves once its health
 * check answers SERVING (at LOG_LEVEL=warn it does not log "listening").
 */
export async function startServerProcess(options: {
  readonly mainJs: string;
  readonly port: number;
  readonly env: Record<string, string>;
  readonly nodeArgs: readonly string[];
}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [...options.nodeArgs, options.mainJs], {
    env: { ...process.env, ...options.env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(options.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      process.off('exit', killOnExit);
      resolve(code);
    }),
  );

  try {
    await waitUntilServing(options.port, exited, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  return {
    pid: child.pid!,
    port: options.port,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function waitUntilServing(port: number, exited: Promise<number | null>, output: () => string): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the server exited with ${exitCode} before serving:\n${output()}`);
    if (await isServing(port)) return;
    if (Date.now() > deadline) throw new Error(`the server did not serve within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
    await sleep(100);
  }
}
