import { readdirSync, readFileSync } from 'node:fs';
import { processCpuUs } from './proc-stats.js';

/**
 * Which processes' CPU a window counts besides the server's, found in /proc
 * by their command lines: Redis and FerretDB by the port they listen on, and
 * PostgreSQL by the backends serving the run's own database ("postgres:
 * <user> <database> ..."), all of them, however many FerretDB's pool opens.
 */
export interface StoreProcesses {
  readonly redisPort?: number;
  readonly ferretdbPort?: number;
  readonly postgresDatabase?: string;
}

/** CPU µs so far of each process of each group, keyed by pid. */
export type CpuSnapshot = Record<string, Map<number, number>>;

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export function snapshotStoreCpu(stores: StoreProcesses): CpuSnapshot {
  const groups: Record<string, (cmd: string) => boolean> = {};
  if (stores.redisPort !== undefined) groups['redis'] = (cmd) => new RegExp(`redis-server \\S*:${stores.redisPort}\\b`).test(cmd);
  if (stores.ferretdbPort !== undefined) groups['ferretdb'] = (cmd) => cmd.includes(`--listen-addr=127.0.0.1:${stores.ferretdbPort}`);
  if (stores.postgresDatabase !== undefined) groups['postgres'] = (cmd) => cmd.startsWith('postgres: ') && cmd.includes(` ${stores.postgresDatabase} `);
  const snapshot: CpuSnapshot = Object.fromEntries(Object.keys(groups).map((name) => [name, new Map<number, number>()]));
  if (Object.keys(groups).length === 0) return snapshot;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmd = commandLine(pid);
    for (const [name, matches] of Object.entries(groups)) {
      if (!matches(cmd)) continue;
      try {
        snapshot[name]!.set(pid, processCpuUs(pid));
      } catch {
        // Exited in between.
      }
    }
  }
  return snapshot;
}

/** CPU µs each group used between two snapshots; a process born in between counts from zero (one that died is lost). */
export function storeCpuBetween(start: CpuSnapshot, end: CpuSnapshot): Record<string, number> {
  const used: Record<string, number> = {};
  for (const [name, pids] of Object.entries(end)) {
    let sum = 0;
    for (const [pid, us] of pids) sum += us - (start[name]?.get(pid) ?? 0);
    used[name] = sum;
  }
  return used;
}
