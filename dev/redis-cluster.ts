import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { findOnPath, removeOnExit, spawnLogged, stopProcess, waitUntilReady } from './child-process.js';

const run = promisify(execFile);

/** A throwaway three-master Redis Cluster on free 127.0.0.1 ports. */
export interface TestRedisCluster {
  /** The seed nodes, comma-separated, as REDIS_URL takes them with REDIS_CLUSTER=true. */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<TestRedisCluster> {
  const server = findOnPath('redis-server');
  const cli = findOnPath('redis-cli');
  if (server === undefined || cli === undefined) throw new Error('redis-server and redis-cli not found on PATH: apt-get install redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'mfa-test-cluster-'));
  removeOnExit(dir);
  const ports = [await freePort(), await freePort(), await freePort()];
  const children = await Promise.all(
    ports.map(async (port) => {
      const logFile = join(dir, `redis-${port}.log`);
      const child = spawnLogged(
        server,
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
          '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`],
        logFile,
      );
      await waitUntilReady(`redis-server (cluster) on port ${port}`, child, logFile, () => answers(cli, port, 'PING', 'PONG'), 10_000);
      return child;
    }),
  );
  await run(cli, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
  const deadline = Date.now() + 20_000;
  while (!(await Promise.all(ports.map((p) => answers(cli, p, 'CLUSTER INFO', 'cluster_state:ok')))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('the test Redis Cluster did not reach cluster_state:ok');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','),
    stop: async () => {
      await Promise.all(children.map((child) => stopProcess(child)));
    },
  };
}

async function answers(cli: string, port: number, command: string, expected: string): Promise<boolean> {
  try {
    const { stdout } = await run(cli, ['-p', String(port), ...command.split(' ')], { timeout: 2000 });
    return stdout.includes(expected);
  } catch {
    return false;
  }
}
