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
  const spaces: Record<string, number> = {};
  for (const [, space, value] of text.matchAll(/^nodejs_heap_space_size_used_bytes\{space="([^"]+)"\} (\S+)$/gm)) {
    spaces[space!] = mib(Number(value));
  }
  return {
    rss: mib(kb('VmRSS')),
    rssAnon: mib(kb('RssAnon')),
    rssFile: mib(kb('RssFile')),
    heapTotal: mib(metric('nodejs_heap_size_total_bytes')),
    heapUsed: mib(metric('nodejs_heap_size_used_bytes')),
    spaces,
    external: mib(metric('nodejs_external_memory_bytes')),
  };
}

/** The snapshots as a markdown table, one row per phase. */
export function memoryMarkdown(phases: ReadonlyMap<string, ServerMemory>): string {
  const spaceNames = [...new Set([...phases.values()].flatMap((m) => Object.keys(m.spaces)))].filter((name) => ['new', 'old', 'code', 'large_object'].includes(name));
  const lines = [
    `| after phase | RSS | anon | file | V8 heap committed | V8 heap live | ${spaceNames.map((name) => `${name} space live`).join(' | ')} | external |`,
    `|---|${'---:|'.repeat(6 + spaceNames.length)}`,
  ];
  for (const [phase, m] of phases) {
    lines.push(`| ${phase} | ${m.rss} | ${m.rssAnon} | ${m.rssFile} | ${m.heapTotal} | ${m.heapUsed} | ${spaceNames.map((name) => m.spaces[name] ?? 0).join(' | ')} | ${m.external} |`);
  }
  return lines.join('\n');
}
