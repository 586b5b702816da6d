/**
 * The one way this repository runs a child process it waits on (the test
 * stores, the service under test, the benchmark's server, scripts): spawn
 * with its output captured (in memory, or in a log file for long-lived
 * servers), wait until it is ready (failing early, with its output, if it
 * exits first), stop it with SIGTERM then SIGKILL, and kill whatever is left
 * when this process exits. `listens()` checks a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

// A test run that crashes or forgets stop() must not leave servers behind; 'exit'
// handlers run synchronously, so kill outright and remove the scratch dirs.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
// Node dies of these without running 'exit' handlers; exit instead so the one above runs.
// (The servers run in process groups of their own, so a Ctrl-C in the terminal reaches only
// us: they stay up for whatever cleanup still needs them, then the handler above kills them.)
for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(128 + osConstants.signals[signal]));
}

/** Removes a test server's temp dir when the test process exits. */
export function removeOnExit(dir: string): void {
  tempDirs.add(dir);
}

/** The absolute path of `command` on PATH, or undefined when it is not installed. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

/** Starts a server process whose stdout and stderr go to `logFile`, killed when the test process exits. */
export function spawnLogged(command: string, args: string[], logFile: string, env?: Record<string, string>): ChildProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', fd, fd], env: env === undefined ? process.env : { ...process.env, ...env }, detached: true });
  } finally {
    closeSync(fd);
  }
  // Unref'd: a suite that forgets stop() ends anyway, and the 'exit' handler kills the server.
  child.unref();
  children.add(child);
  child.once('exit', () => children.delete(child));
  // A spawn failure (ENOENT, EACCES) arrives as an event; waitUntilReady reports it via the exit.
  child.once('error', () => children.delete(child));
  return child;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || !children.has(child);
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return true;
  const exited = new Promise<true>((resolve) => child.once('exit', () => resolve(true)));
  return Promise.race([exited, sleep(timeoutMs, false)]);
}

/** Stops a server: SIGTERM, then SIGKILL if it has not exited after `graceMs` (5 s). */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5_000);
}

/** The last lines of a server log, to put in a startup error. */
export function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `isReady` until it is true; fails early if the process exits, with the log tail in the error. */
export async function waitUntilReady(
  what: string,
  child: ChildProcess,
  logFile: string,
  isReady: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited(child)) {
      throw new Error(`${what} exited during startup (log ${logFile}):\n${logTail(logFile)}`);
    }
    if (await isReady()) return;
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`${what} not ready after ${timeoutMs} ms (log ${logFile}):\n${logTail(logFile)}`);
    }
    await sleep(100);
  }
}

/** A child process whose stdout and stderr are kept in memory (see startChild). */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves to its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Polls `isReady` every 100 ms until true; fails early, with the output, if the process exits first. */
  waitUntil(what: string, isReady: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` (5 s); resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** Sends a signal (SIGSTOP, SIGKILL, ...) and returns at once. */
  signal(name: NodeJS.Signals): void;
}

/** Starts `command` with its output captured in memory; it is killed when this process exits. */
export function startChild(command: string, args: readonly string[], options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}): Child {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    // A spawn failure (ENOENT, EACCES) arrives as an event, and no 'exit' follows.
    child.once('error', (error) => {
      children.delete(child);
      output += `\n${error.message}`;
      resolve(null);
    });
  });
  return {
    process: child,
    pid: child.pid ?? -1,
    output: () => output,
    exited,
    waitUntil: async (what, isReady, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (hasExited(child)) throw new Error(`${what}: exited with ${child.exitCode ?? child.signalCode} first:\n${output}`);
        if (await isReady()) return;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms:\n${output}`);
        await sleep(100);
      }
    },
    stop: async (graceMs = 5_000) => {
      await stopProcess(child, graceMs);
      return exited;
    },
    signal: (name) => void child.kill(name),
  };
}

/** Whether something accepts TCP connections on `host:port` now. */
export function listens(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
