import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { findOnPath, removeOnExit, spawnLogged, stopProcess, waitUntilReady } from './child-process.js';

/** A throwaway Redis for tests; restart() comes back on the same port, for outage tests. */
export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Sends a signal to the server process: SIGSTOP and SIGCONT make it stall and resume. */
  signal(name: NodeJS.Signals): void;
}

/**
 * Starts a private, non-persistent redis-server from PATH on a free 127.0.0.1
 * port; `extraArgs` adds server options (e.g. `--maxmemory 2mb`).
 */
export async function startRedisServer(options: { readonly extraArgs?: readonly string[] } = {}): Promise<TestRedis> {
  const binary = findOnPath('redis-server');
  if (binary === undefined) {
    throw new Error('redis-server not found on PATH: apt-get install redis-server');
  }
  const dir = await mkdtemp(join(tmpdir(), 'mfa-test-redis-'));
  removeOnExit(dir);
  const port = await freePort();
  const logFile = join(dir, 'redis-server.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...(options.extraArgs ?? [])];

  const launch = async () => {
    const child = spawnLogged(binary, args, logFile);
    await waitUntilReady(`redis-server on port ${port}`, child, logFile, () => answersPing(port), 10_000);
    return child;
  };

  let child = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => stopProcess(child),
    restart: async () => {
      await stopProcess(child);
      child = await launch();
    },
    signal: (name) => void child.kill(name),
  };
}

// A raw socket rather than a client: no retry or reconnect logic to second-guess.
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
  });
}
