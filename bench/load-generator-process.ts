import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadWindow } from './load-loop.js';
import type { ScenarioName } from './options.js';
import type { StoreProcesses } from './store-cpu.js';
import type { FloorStores } from './store-floor.js';

/** How the load generator reaches the server and how hard it pushes. */
export interface GeneratorConfig {
  readonly port: number;
  readonly channels: number;
  readonly concurrency: number;
  /** The server's pid, whose CPU time the generator reads at the ends of each window. */
  readonly serverPid: number;
  /** The stores' processes, whose CPU time the generator reads at the same ends (store-cpu.ts). */
  readonly storeProcesses: StoreProcesses;
  readonly authToken: string;
  readonly runId: string;
  /** The server's Redis and MongoDB, for the store floors; null with the embedded stores. */
  readonly stores: FloorStores | null;
  /** Setup calls kept in flight (FerretDB on SQLite applies writes one at a time: more only queue there). */
  readonly setupConcurrency: number;
}

/** What the orchestrator asks of the generator, one at a time. */
export type GeneratorCommand =
  | { readonly kind: 'enroll-users'; readonly count: number }
  | { readonly kind: 'remember-devices'; readonly count: number }
  | { readonly kind: 'begin-pending'; readonly count: number }
  | { readonly kind: 'register-keys'; readonly count: number }
  | { readonly kind: 'size-users'; readonly scenario: ScenarioName; readonly warmupMs: number; readonly durationMs: number; readonly headroom: number }
  | { readonly kind: 'open-floor' }
  | { readonly kind: 'close-floor' }
  | { readonly kind: 'calls'; readonly scenario: ScenarioName; readonly count: number }
  | { readonly kind: 'run'; readonly scenario: ScenarioName; readonly warmupMs: number; readonly durationMs: number };

/** One scenario as the generator measured it: the load window with its latencies summed up. */
export type ScenarioMeasurement = Omit<LoadWindow, 'latencies'> & {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
};

export type GeneratorReply = { readonly id: number } & ({ readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string });

/** The load generator as a child process with an IPC channel. */
export interface LoadGeneratorProcess {
  readonly pid: number;
  request(command: GeneratorCommand): Promise<unknown>;
  stop(): Promise<void>;
}

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'load-generator.ts');

/** Forks bench/load-generator.ts (through tsx) so that client and server never share a CPU-bound event loop. */
export function startLoadGenerator(config: GeneratorConfig, nodeArgs: readonly string[] = []): LoadGeneratorProcess {
  const child: ChildProcess = fork(ENTRY, [JSON.stringify(config)], { execArgv: ['--import', 'tsx', ...nodeArgs], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const waiting = new Map<number, { resolve(result: unknown): void; reject(error: Error): void }>();
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true;
      process.off('exit', killOnExit);
      for (const { reject } of waiting.values()) reject(new Error(`the load generator exited (${signal ?? code})`));
      waiting.clear();
      resolve();
    }),
  );
  child.on('message', (reply: GeneratorReply) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.ok) pending?.resolve(reply.result);
    else pending?.reject(new Error(`load generator: ${reply.error}`));
  });
  let nextId = 0;
  return {
    pid: child.pid!,
    request: (command) =>
      new Promise((resolve, reject) => {
        if (gone) return reject(new Error('the load generator is not running'));
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        child.send({ id, command });
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
