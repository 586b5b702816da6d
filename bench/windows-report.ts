import { isFloor, type ScenarioName } from './options.js';
import type { ScenarioResult } from './report.js';

export interface MeasuredWindow {
  readonly round: number;
  readonly scenario: ScenarioName;
  readonly result: ScenarioResult;
  /** Users with MFA on in the store during the window (seeded and enrolled). */
  readonly users: number;
}

const STORES = ['ferretdb', 'postgres', 'redis'] as const;

/**
 * Every measured window of a run (--rounds, --seed), in the order run: its
 * rate and the CPU per call of the server (of the load generator for a store
 * floor, whose calls it makes itself) and of each store's processes, read
 * from /proc at the window's ends; then each scenario's median and spread.
 */
export function windowsMarkdown(windows: readonly MeasuredWindow[], vacuumed: boolean): string {
  const perCall = (us: number | undefined, w: MeasuredWindow) => (us === undefined ? '–' : (us / Math.max(1, w.result.windowCalls) / 1000).toFixed(2));
  const lines = [
    `Every window${vacuumed ? ' (VACUUM ANALYZE of the run\'s PostgreSQL database before each)' : ''}; CPU in ms per call; "own" is the server's, or the load generator's for a floor:`,
    '',
    '| round | scenario | users | req/s | own | ferretdb | postgres | redis | total |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const w of windows) {
    const own = isFloor(w.scenario) ? w.result.clientCpuUs : w.result.serverCpuUs;
    const stores = STORES.map((name) => w.result.storeCpuUs[name]);
    const total = own + stores.reduce<number>((sum, us) => sum + (us ?? 0), 0);
    const rps = w.result.windowSuccesses / (w.result.windowMs / 1000);
    lines.push(`| ${w.round} | ${w.scenario} | ${w.users} | ${rps.toFixed(0)} | ${perCall(own, w)} | ${stores.map((us) => perCall(us, w)).join(' | ')} | ${perCall(total, w)} |`);
  }
  lines.push('', '| scenario | windows | req/s median | req/s min–max | total CPU ms/call median |', '|---|---:|---:|---|---:|');
  for (const scenario of [...new Set(windows.map((w) => w.scenario))]) {
    const mine = windows.filter((w) => w.scenario === scenario);
    const rates = mine.map((w) => w.result.windowSuccesses / (w.result.windowMs / 1000)).sort((a, b) => a - b);
    const totals = mine
      .map((w) => ((isFloor(w.scenario) ? w.result.clientCpuUs : w.result.serverCpuUs) + STORES.reduce((sum, name) => sum + (w.result.storeCpuUs[name] ?? 0), 0)) / Math.max(1, w.result.windowCalls) / 1000)
      .sort((a, b) => a - b);
    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
    lines.push(`| ${scenario} | ${mine.length} | ${median(rates).toFixed(0)} | ${rates[0]!.toFixed(0)}–${rates.at(-1)!.toFixed(0)} | ${median(totals).toFixed(2)} |`);
  }
  return lines.join('\n');
}
