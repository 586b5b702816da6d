import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCENARIOS = ['health', 'verify_totp', 'check_session', 'check_device', 'enroll'];

interface BenchJson {
  scenarios: Record<string, { rps: number; p50_ms: number; p90_ms: number; p99_ms: number; server_cpu_us: number; errors: Record<string, number> }>;
  rss_mib: number;
  mongo_bytes_per_user: number;
  redis_bytes_per_pending: number;
  processes: { server_pid: number; load_generator_pid: number; redis_port: number; mongo_url: string };
  machine: { mongo: string };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// A second or so per scenario: this keeps the benchmark from rotting; it never asserts a speed.
describe('npm run bench, a short smoke run', function () {
  this.timeout(180_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let exitCode: number | null;
  let stdout = '';
  let stderr = '';
  let report: BenchJson;

  before(async function () {
    this.timeout(600_000); // the first run may build FerretDB
    dir = await mkdtemp(join(tmpdir(), 'mfa-bench-smoke-'));
    const json = join(dir, 'bench.json');
    const args = ['--duration', '1', '--warmup', '0.2', '--concurrency', '4', '--channels', '2', '--users', '100', '--pending', '50', '--json', json];
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    exitCode = await new Promise((resolve) => child!.once('exit', resolve));
    expect(exitCode, `bench exited with ${exitCode}:\n${stderr}`).to.equal(0);
    report = JSON.parse(await readFile(json, 'utf8')) as BenchJson;
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('measures every scenario with calls and no failed call', () => {
    expect(Object.keys(report.scenarios)).to.deep.equal(SCENARIOS);
    for (const [name, scenario] of Object.entries(report.scenarios)) {
      expect(scenario.rps, `${name} rps`).to.be.greaterThan(0);
      expect(scenario.errors, `${name} errors`).to.deep.equal({});
      for (const field of ['p50_ms', 'p90_ms', 'p99_ms', 'server_cpu_us'] as const) {
        expect(scenario[field], `${name} ${field}`).to.be.a('number').and.not.be.NaN;
      }
    }
  });

  it('reports peak RSS, MongoDB bytes per user and Redis bytes per pending enrollment', () => {
    expect(report.rss_mib).to.be.greaterThan(0);
    expect(report.mongo_bytes_per_user).to.be.greaterThan(0);
    expect(report.redis_bytes_per_pending).to.be.greaterThan(0);
  });

  it('prints the results as a markdown table', () => {
    expect(stdout).to.match(/^\| scenario \| req\/s \|/m);
    for (const name of SCENARIOS) expect(stdout).to.match(new RegExp(`^\\| ${name} \\|`, 'm'));
  });

  it('stops the server, the load generator, Redis and its own MongoDB-compatible server', async () => {
    expect(isAlive(report.processes.server_pid), 'server').to.equal(false);
    expect(isAlive(report.processes.load_generator_pid), 'load generator').to.equal(false);
    expect(await acceptsConnections(report.processes.redis_port), 'redis-server').to.equal(false);
    if (report.machine.mongo !== 'external') {
      expect(await acceptsConnections(Number(new URL(report.processes.mongo_url).port)), report.machine.mongo).to.equal(false);
    }
  });
});
