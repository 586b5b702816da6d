import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly percent: number;
}

/**
 * Self time of a V8 .cpuprofile (`node --cpu-prof`), by function and by
 * package (node_modules/<name>, node: internals, the service's own files).
 */
export function summariseProfile(path: string, top = 25): { functions: SelfTime[]; packages: SelfTime[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    // A sample's delta is the time since the previous sample; attribute it to this one.
    const us = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id)!;
    const location = frame.url === '' ? '' : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${location}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const where = packageOf(frame.url, frame.functionName);
    byPackage.set(where, (byPackage.get(where) ?? 0) + us);
    totalUs += us;
  });
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, percent: Math.round((1000 * us) / totalUs) / 10 }));
  return { functions: rank(byFunction), packages: rank(byPackage), totalMs: Math.round(totalUs / 1000) };
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const build = /\/bench-build-\d+\/(.*)$/.exec(url);
  return build ? `src/${build[1]}` : url.replace(/^file:\/\//, '');
}

function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  return /\/bench-build-\d+\//.test(url) ? 'the service (src/)' : url;
}

/** The summary as markdown tables. */
export function profileMarkdown(summary: ReturnType<typeof summariseProfile>): string {
  const table = (title: string, rows: SelfTime[]) => [
    `| ${title} | self ms | % |`,
    '|---|---:|---:|',
    ...rows.map((row) => `| ${row.name.replace(/\|/g, '\\|')} | ${row.ms} | ${row.percent} |`),
  ];
  return [`Server CPU profile: ${summary.totalMs} ms sampled`, '', ...table('package', summary.packages.slice(0, 12)), '', ...table('function', summary.functions)].join('\n');
}
