import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, openSync, readFileSync, rmSync } from 'node:fs';
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

/** Stops a server: SIGTERM, then SIGKILL if it has not exited after 5 s. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, 5_000)) return;
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
