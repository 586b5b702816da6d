import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stretch of the server's life to summarise: a scenario's measured window, in CLOCK_MONOTONIC µs. */
export interface ProfileWindow {
  readonly name: string;
  readonly startUs: number;
  readonly endUs: number;
  /** Calls completed in the window; 0 for no per-call column. */
  readonly calls: number;
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly percent: number;
  /** Self time per call of the window, or null without calls. */
  readonly usPerCall: number | null;
}

export interface ProfileSummary {
  readonly window: string;
  /** Sampled time that was not idle. */
  readonly busyMs: number;
  readonly functions: SelfTime[];
  readonly packages: SelfTime[];
}

const IDLE = '(idle)';

/**
 * Self time of a V8 .cpuprofile (`node --cpu-prof`) by function and by package
 * (node_modules/<name>, node: internals, the service's own files), once per
 * window: V8 stamps samples with CLOCK_MONOTONIC, the clock the load generator
 * records its windows with, so each scenario's profile holds only its own load.
 * `classify` names the group a sample's frame counts in ("packages"): by
 * default its package.
 */
export function summariseProfile(
  path: string,
  windows: readonly ProfileWindow[],
  top = 20,
  classify: (url: string, functionName: string) => string = packageOf,
): ProfileSummary[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const tallies = windows.map(() => ({ byFunction: new Map<string, number>(), byPackage: new Map<string, number>(), busyUs: 0 }));
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    // A sample's delta is the time since the previous sample; attribute it to this one.
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    const frame = nodes.get(id)!;
    const location = frame.url === '' ? '' : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${location}`;
    const where = classify(frame.url, frame.functionName);
    windows.forEach((window, w) => {
      if (at < window.startUs || at > window.endUs) return;
      const tally = tallies[w]!;
      tally.byFunction.set(name, (tally.byFunction.get(name) ?? 0) + us);
      tally.byPackage.set(where, (tally.byPackage.get(where) ?? 0) + us);
      if (frame.functionName !== IDLE) tally.busyUs += us;
    });
  });
  return windows.map((window, w) => {
    const { byFunction, byPackage, busyUs } = tallies[w]!;
    const rank = (map: Map<string, number>) =>
      [...map]
        .filter(([name]) => name !== IDLE)
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, us]) => ({
          name,
          ms: Math.round(us / 100) / 10,
          percent: busyUs === 0 ? 0 : Math.round((1000 * us) / busyUs) / 10,
          usPerCall: window.calls === 0 ? null : Math.round((10 * us) / window.calls) / 10,
        }));
    return { window: window.name, busyMs: Math.round(busyUs / 1000), functions: rank(byFunction), packages: rank(byPackage) };
  });
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

/** The summaries as markdown: per window, its packages and its top functions by self time (idle left out). */
export function profileMarkdown(summaries: readonly ProfileSummary[], title = 'Server CPU profile'): string {
  const table = (title: string, rows: readonly SelfTime[]) => {
    const perCall = rows.some((row) => row.usPerCall !== null);
    return [
      `| ${title} | self ms | % of busy |${perCall ? ' µs/call |' : ''}`,
      `|---|---:|---:|${perCall ? '---:|' : ''}`,
      ...rows.map((row) => `| ${row.name.replace(/\|/g, '\\|')} | ${row.ms} | ${row.percent} |${perCall ? ` ${row.usPerCall} |` : ''}`),
    ];
  };
  return summaries
    .map((summary) =>
      [
        `### ${title}: ${summary.window} (${summary.busyMs} ms busy)`,
        '',
        ...table('package', summary.packages.slice(0, 10)),
        '',
        ...table('function', summary.functions),
      ].join('\n'),
    )
    .join('\n\n');
}
