import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { listens } from '../../dev/child-process.js';
import { buildDist } from '../support/build-dist.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The run on real stores: the store floors (each right before its RPC), round trips and sizes.
const REAL_SCENARIOS = ['health', 'floor_verify', 'verify_totp', 'check_session', 'floor_device', 'check_device', 'enroll'];
// The run on the embedded stores: the scenarios that set up most (security keys, a second sizing
// round) and whose ratio to verify_totp the report gives, where setting up costs least.
const MEMORY_SCENARIOS = ['health', 'verify_totp', 'verify_totp_assert', 'verify_webauthn'];

interface BenchJson {
  scenarios: Record<string, { rps: number; p50_ms: number; p90_ms: number; p99_ms: number; server_cpu_us: number; errors: Record<string, number> }>;
  rss_mib: number;
  mongo_bytes_per_user: number | null;
  redis_bytes_per_pending: number | null;
  details: { scenarios: Record<string, { redis_round_trips_per_call: number | null; mongo_round_trips_per_call: number | null; cut_short: string | null }> };
  floors: Record<string, { rps_ratio: number }>;
  processes: { server_pid: number; load_generator_pid: number; redis_port?: number; mongo_url?: string };
  machine: { stores: string };
  heap_snapshot?: { file: string; live_mib: number } | null;
}

/** A bench still running when its suite ends (a timed-out before hook) is stopped in after(). */
const running = new Set<ChildProcess>();

/**
 * Runs the benchmark for 0.3 s per scenario with `extra` options, on the service `npm run build`
 * compiled (one build for the whole test run); resolves to its output and JSON. It checks that every part
 * still runs and reports, not how fast: a window in which no call ended lasts until one does (load-loop.ts),
 * and 100 pending enrollments outweigh the drift of Redis's used_memory.
 */
async function runBench(dir: string, name: string, extra: readonly string[]): Promise<{ stdout: string; report: BenchJson }> {
  const json = join(dir, `${name}.json`);
  // --sizing-headroom 4: the other spec files run beside this one, so the rate verify_totp's probes
  // measure can be a fraction of its window's; its window must not run out of codes (cut_short).
  const args = ['--duration', '0.3', '--warmup', '0.05', '--concurrency', '4', '--channels', '2', '--users', '100', '--pending', '100', '--sizing-headroom', '4', '--server-dir', join(ROOT, 'dist'), '--json', json, ...extra];
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(exitCode, `bench ${extra.join(' ')} exited with ${exitCode}:\n${stderr}`).to.equal(0);
  return { stdout, report: JSON.parse(await readFile(json, 'utf8')) as BenchJson };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A fraction of a second per scenario: this keeps the benchmark from rotting; it never asserts a speed.
describe('npm run bench, a short smoke run', function () {
  this.timeout(180_000);
  let dir: string;
  let stdout: string;
  let report: BenchJson;
  let memory: BenchJson;
  let memoryStdout: string;

  before(async function () {
    this.timeout(600_000); // the first run may build FerretDB
    dir = await mkdtemp(join(tmpdir(), 'mfa-bench-smoke-'));
    await buildDist(); // one build at a time across mocha's parallel workers
    // The two runs at once: this file was the last of npm test to end, with a core to spare beside it.
    // The embedded stores answer fast: 100 users' codes last well under a second; the bench enrolls more by itself.
    // The CPU profile there, where it costs least: profiling the run on FerretDB cost it about 40 s of CPU.
    [{ stdout, report }, { report: memory, stdout: memoryStdout }] = await Promise.all([
      runBench(dir, 'real', ['--scenarios', REAL_SCENARIOS.join(',')]),
      runBench(dir, 'memory', ['--stores', 'memory', '--scenarios', MEMORY_SCENARIOS.join(','), '--heap-snapshot', join(dir, 'heap'), '--profile', join(dir, 'profile')]),
    ]);
  });

  after(async function () {
    this.timeout(60_000);
    // SIGINT: the bench cleans up its servers (and a shared database) before it exits. One run that
    // failed leaves the other running: it may still write its files into dir, so wait for it first.
    await Promise.all([...running].map((child) => new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGINT');
    })));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('measures every scenario it was given with calls and no failed call', () => {
    expectEveryScenarioRan(report, REAL_SCENARIOS);
  });

  it('compares verify_totp and check_device with their store floors', () => {
    expect(Object.keys(report.floors)).to.deep.equal(['verify_totp', 'check_device']);
    for (const floor of Object.values(report.floors)) expect(floor.rps_ratio).to.be.greaterThan(0);
    // A floor makes exactly the round trips it stands for: the lockout script and one update; one find.
    expect(report.details.scenarios['floor_verify']).to.include({ redis_round_trips_per_call: 1, mongo_round_trips_per_call: 1 });
    expect(report.details.scenarios['floor_device']).to.include({ redis_round_trips_per_call: 0, mongo_round_trips_per_call: 1 });
  });

  it('reports peak RSS, MongoDB bytes per user, Redis bytes per pending enrollment and round trips', () => {
    expect(report.rss_mib).to.be.greaterThan(0);
    expect(report.mongo_bytes_per_user).to.be.greaterThan(0);
    expect(report.redis_bytes_per_pending).to.be.greaterThan(0);
    expect(report.details.scenarios['check_session']!.redis_round_trips_per_call).to.be.greaterThan(0);
    expect(report.details.scenarios['verify_totp']!.mongo_round_trips_per_call).to.be.greaterThan(0);
  });

  it('prints the results as a markdown table', () => {
    expect(stdout).to.match(/^\| scenario \| req\/s \|/m);
    for (const name of REAL_SCENARIOS) expect(stdout).to.match(new RegExp(`^\\| ${name} \\|`, 'm'));
  });

  it('stops the server, the load generator, Redis and its own MongoDB-compatible server', async () => {
    expect(isAlive(report.processes.server_pid), 'server').to.equal(false);
    expect(isAlive(report.processes.load_generator_pid), 'load generator').to.equal(false);
    expect(await listens(report.processes.redis_port!), 'redis-server').to.equal(false);
    if (report.machine.stores !== 'external') {
      expect(await listens(Number(new URL(report.processes.mongo_url!).port)), report.machine.stores).to.equal(false);
    }
  });

  describe('with --stores memory', () => {
    it('measures every scenario on the embedded stores, with nothing to count in Redis or MongoDB', () => {
      expectEveryScenarioRan(memory, MEMORY_SCENARIOS);
      expect(memory.floors).to.deep.equal({});
      expect(memory.details.scenarios['verify_totp']!.cut_short, 'verify_totp window cut short').to.equal(null);
      expect(memory.machine.stores).to.equal('memory');
      expect(memory.mongo_bytes_per_user).to.equal(null);
      expect(memory.redis_bytes_per_pending).to.equal(null);
      expect(memory.details.scenarios['verify_totp']!.redis_round_trips_per_call).to.equal(null);
      expect(isAlive(memory.processes.server_pid), 'server').to.equal(false);
    });

    it('reports verify_webauthn (Begin + Verify as one request) and verify_totp_assert against verify_totp of the same run', () => {
      expect(memoryStdout).to.match(/^\| verify_webauthn rps \/ verify_totp rps \(issue 23\) \| \d+(\.\d+)? \| 0\.5 \|/m);
      expect(memoryStdout).to.match(/^\| verify_totp_assert rps \/ verify_totp rps \(issue 25\) \| \d+(\.\d+)? \| 0\.8 \|/m);
    });

    it('prints the server\'s CPU profile cut to each scenario\'s window', () => {
      for (const name of MEMORY_SCENARIOS) expect(memoryStdout).to.match(new RegExp(`^### Server CPU profile: ${name} \\(\\d+ ms busy\\)`, 'm'));
      expect(memoryStdout).to.match(/^\| function \| self ms \| % of busy \| µs\/call \|/m);
    });

    it('prints what is live in the server\'s heap after the last scenario, by constructor, from a heap snapshot', () => {
      expect(memory.heap_snapshot!.live_mib).to.be.greaterThan(0);
      expect(existsSync(memory.heap_snapshot!.file), memory.heap_snapshot!.file).to.equal(true);
      expect(memoryStdout).to.match(/^### Server heap after the last scenario, once V8 collected its garbage: \d+\.\d MiB live on the V8 heap, \d+\.\d MiB native, in \d+ objects$/m);
      expect(memoryStdout).to.match(/^\| constructor \| objects \| self MiB \| % of live \|$/m);
    });
  });
});

function expectEveryScenarioRan(report: BenchJson, scenarios: readonly string[]): void {
  expect(Object.keys(report.scenarios)).to.deep.equal(scenarios);
  for (const [name, scenario] of Object.entries(report.scenarios)) {
    expect(scenario.rps, `${name} rps`).to.be.greaterThan(0);
    expect(scenario.errors, `${name} errors`).to.deep.equal({});
    for (const field of ['p50_ms', 'p90_ms', 'p99_ms', 'server_cpu_us'] as const) {
      expect(scenario[field], `${name} ${field}`).to.be.a('number').and.not.be.NaN;
    }
  }
}
