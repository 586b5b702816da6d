import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startChild } from '../dev/child-process.js';
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
  const child = startChild(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root });
  const code = await child.exited;
  if (code !== 0) process.stderr.write(`bench: warning: tsc reported errors; benchmarking the emitted JavaScript anyway:\n${child.output()}\n`);
  return join(outDir, 'main.js');
}

/** The main.js of a service compiled already (--server-dir), once it is there. */
export async function builtServer(dir: string): Promise<string> {
  const mainJs = join(resolve(dir), 'main.js');
  if (!existsSync(mainJs)) throw new Error(`--server-dir ${dir}: no main.js there (npm run build compiles the service into dist/)`);
  return mainJs;
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
  const child = startChild(process.execPath, [...options.nodeArgs, options.mainJs], {
    env: { ...process.env, ...options.env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(options.port) },
  });
  try {
    await child.waitUntil('the server', () => isServing(options.port), STARTUP_TIMEOUT_MS);
  } catch (error) {
    child.signal('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid,
    port: options.port,
    output: child.output,
    stop: () => child.stop(10_000),
  };
}
