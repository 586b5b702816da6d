import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The signal the server is started to write a heap snapshot on (node --heapsnapshot-signal). */
export const HEAP_SNAPSHOT_SIGNAL = 'SIGUSR2';
/** Node.js flags that make the server write a heap snapshot into `dir` on HEAP_SNAPSHOT_SIGNAL. */
export function heapSnapshotNodeArgs(dir: string): string[] {
  return [`--heapsnapshot-signal=${HEAP_SNAPSHOT_SIGNAL}`, `--diagnostic-dir=${dir}`];
}

/** One row of a heap snapshot's summary: objects of one constructor (or one kind of V8 internals). */
export interface HeapGroup {
  readonly name: string;
  readonly count: number;
  readonly selfBytes: number;
}

export interface HeapSummary {
  /** What is live once the full GC V8 runs before a snapshot is done: every object's own size, on the V8 heap and native. */
  readonly liveBytes: number;
  /** Of that, what lives outside the V8 heap ("native" nodes: ArrayBuffer data, Node's own C++ objects). */
  readonly nativeBytes: number;
  readonly objects: number;
  /** The largest groups by self size, largest first. */
  readonly groups: HeapGroup[];
}

interface HeapSnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * Signals the server to write a heap snapshot into `dir` and resolves to its
 * path once written. V8 writes it on the main thread after a full GC, so the
 * server answers `answering()` (its /metrics) again only when it is done.
 */
export async function takeHeapSnapshot(pid: number, dir: string, answering: () => Promise<unknown>, timeoutMs = 120_000): Promise<string> {
  const before = new Set(snapshotsIn(dir));
  process.kill(pid, HEAP_SNAPSHOT_SIGNAL);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const written = snapshotsIn(dir).find((name) => !before.has(name));
    if (written !== undefined) {
      // The file appears as V8 starts writing it; a request made meanwhile can fail (seen with a 160 MB heap).
      for (;;) {
        try {
          await answering();
          return join(dir, written);
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(100);
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`the server (pid ${pid}) wrote no heap snapshot into ${dir} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function snapshotsIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.heapsnapshot')) : [];
}

/**
 * Self size by constructor, much as Chrome DevTools' "Summary" view groups a
 * snapshot: objects by constructor name, and V8's own kinds each as one
 * group in parentheses (unlike DevTools: strings of every kind as one, and
 * unreachable nodes counted too, though right after a full GC there are few).
 */
export function summariseHeapSnapshot(path: string, top = 15): HeapSummary {
  const file = JSON.parse(readFileSync(path, 'utf8')) as HeapSnapshotFile;
  const fields = file.snapshot.meta.node_fields;
  const types = file.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
  if (typeAt < 0 || nameAt < 0 || sizeAt < 0) throw new Error(`${path}: not a V8 heap snapshot (node fields ${fields.join(',')})`);
  const groups = new Map<string, { count: number; selfBytes: number }>();
  let liveBytes = 0;
  let nativeBytes = 0;
  let objects = 0;
  for (let i = 0; i < file.nodes.length; i += fields.length) {
    const type = types[file.nodes[i + typeAt]!] ?? 'unknown';
    const size = file.nodes[i + sizeAt]!;
    const name = groupOf(type, file.strings[file.nodes[i + nameAt]!] ?? '');
    const group = groups.get(name) ?? { count: 0, selfBytes: 0 };
    group.count += 1;
    group.selfBytes += size;
    groups.set(name, group);
    liveBytes += size;
    if (type === 'native') nativeBytes += size;
    objects += 1;
  }
  const largest = [...groups].map(([name, group]) => ({ name, ...group })).sort((a, b) => b.selfBytes - a.selfBytes);
  return { liveBytes, nativeBytes, objects, groups: largest.slice(0, top) };
}

function groupOf(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'native':
      return name;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'code':
      return '(compiled code)';
    case 'hidden':
    case 'synthetic':
      return '(system)';
    default:
      return `(${type})`;
  }
}

export function heapSummaryMarkdown(summary: HeapSummary, heading: string): string {
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const rows = summary.groups.map(
    (group) => `| ${group.name.replaceAll('|', '\\|')} | ${group.count} | ${mib(group.selfBytes)} | ${((100 * group.selfBytes) / summary.liveBytes).toFixed(1)}% |`,
  );
  return [
    `### ${heading}: ${mib(summary.liveBytes - summary.nativeBytes)} MiB live on the V8 heap, ${mib(summary.nativeBytes)} MiB native, in ${summary.objects} objects`,
    '',
    '| constructor | objects | self MiB | % of live |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
