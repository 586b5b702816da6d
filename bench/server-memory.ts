import { readFileSync } from 'node:fs';

/** Where the server's resident memory is at one moment: the kernel's split, and V8's heap from the server's /metrics. */
export interface ServerMemory {
  /** VmRSS, and its anonymous (heaps, buffers) and file-backed (the node binary's and libraries' pages) parts, MiB. */
  readonly rss: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  /** V8: the heap's committed size, what is live in it, per space (new, old, code, large objects...), MiB. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly spaces: Record<string, number>;
  /** V8: each space's committed size (the new space's is its semi-spaces, however little is live in them). */
  readonly spacesCommitted: Record<string, number>;
  /** Memory V8 objects hold outside the heap (Buffers' backing stores), MiB. */
  readonly external: number;
}

const mib = (bytes: number) => Math.round((10 * bytes) / 2 ** 20) / 10;

/** Reads /proc/<pid>/status and GET /metrics (prom-client's default Node.js metrics) of the server. */
export async function serverMemory(pid: number, metricsPort: number): Promise<ServerMemory> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(status)?.[1] ?? 0) * 1024;
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  // One of prom-client's per-space gauges, by space name.
  const perSpace = (name: string) =>
    Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{space="([^"]+)"\\} (\\S+)$`, 'gm'))].map(([, space, value]) => [space!, mib(Number(value))]));
  const spaces = perSpace('nodejs_heap_space_size_used_bytes');
  const spacesCommitted = perSpace('nodejs_heap_space_size_total_bytes');
  return {
    rss: mib(kb('VmRSS')),
    rssAnon: mib(kb('RssAnon')),
    rssFile: mib(kb('RssFile')),
    heapTotal: mib(metric('nodejs_heap_size_total_bytes')),
    heapUsed: mib(metric('nodejs_heap_size_used_bytes')),
    spaces,
    spacesCommitted,
    external: mib(metric('nodejs_external_memory_bytes')),
  };
}

/**
 * Samples the server's memory every SAMPLE_MS while the bench runs and keeps
 * the sample of the highest RSS and the phase it fell in: where the peak RSS
 * goes, which the snapshots at the end of each phase miss (by then a GC has run).
 */
export class MemoryWatch {
  static readonly SAMPLE_MS = 250;
  phase = 'setup';
  #highest: { phase: string; memory: ServerMemory } | null = null;
  #timer: NodeJS.Timeout;
  #sampling = false;

  constructor(pid: number, metricsPort: number) {
    this.#timer = setInterval(() => {
      if (this.#sampling) return;
      this.#sampling = true;
      const phase = this.phase;
      serverMemory(pid, metricsPort)
        .then((memory) => {
          if (this.#highest === null || memory.rss > this.#highest.memory.rss) this.#highest = { phase, memory };
        })
        .catch(() => {}) // the server may be stopping; a missed sample is no error
        .finally(() => (this.#sampling = false));
    }, MemoryWatch.SAMPLE_MS);
  }

  get highest(): { phase: string; memory: ServerMemory } | null {
    return this.#highest;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The snapshots as a markdown table, one row per phase (a row's name says when it was taken). */
export function memoryMarkdown(phases: ReadonlyMap<string, ServerMemory>): string {
  const spaceNames = [...new Set([...phases.values()].flatMap((m) => Object.keys(m.spaces)))].filter((name) => ['new', 'old', 'code', 'large_object'].includes(name));
  const lines = [
    `| when | RSS | anon | file | V8 heap committed | new space committed | V8 heap live | ${spaceNames.map((name) => `${name} space live`).join(' | ')} | external |`,
    `|---|${'---:|'.repeat(7 + spaceNames.length)}`,
  ];
  for (const [phase, m] of phases) {
    const cells = [m.rss, m.rssAnon, m.rssFile, m.heapTotal, m.spacesCommitted['new'] ?? 0, m.heapUsed, ...spaceNames.map((name) => m.spaces[name] ?? 0), m.external];
    lines.push(`| ${phase} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
