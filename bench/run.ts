/**
 * `npm run bench`: provisions Redis and a MongoDB-compatible server, starts the
 * compiled service as its own process in production mode, drives it from a
 * separate load-generator process scenario by scenario, and reports each
 * against the `health` floor (issue 4). Everything it starts, it stops.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../dev/free-port.js';
import { SETUP_CONCURRENCY, SQLITE_SETUP_CONCURRENCY } from './bench-users.js';
import { startBenchStores, withoutPassword } from './bench-stores.js';
import { heapSnapshotNodeArgs, heapSummaryMarkdown, summariseHeapSnapshot, takeHeapSnapshot, type HeapSummary } from './heap-snapshot.js';
import { startLoadGenerator } from './load-generator-process.js';
import { measureScenario } from './measure-scenario.js';
import { BENCH_ORIGIN, BENCH_RP_ID } from './key-users.js';
import { isFloor, parseOptions, SPENDS_CODES, USAGE, UsageError, type BenchOptions, type ScenarioName } from './options.js';
import { clockTicksPerSecond, rssBytes } from './proc-stats.js';
import { profileMarkdown, summariseProfile } from './profile-summary.js';
import { buildReport, markdown, type ScenarioResult } from './report.js';
import { MemoryWatch, memoryMarkdown, serverMemory } from './server-memory.js';
import { seedUsers } from './seed-users.js';
import { buildServer, builtServer, startServerProcess } from './server-process.js';
import { windowsMarkdown, type MeasuredWindow } from './windows-report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** At most this many users get a remembered device at setup, for check_device (each spends one of its codes). */
const DEVICE_USERS = 500;
const FACTORS_COLLECTION = 'mfa_factors';
/** Under --profile DIR, where the load generator's profile goes (the server's goes to DIR itself). */
const GENERATOR_PROFILE_DIR = 'load-generator';

/** How long the setup waits for the relay to move its events (FerretDB on SQLite is the slowest). */
const RELAY_WAIT_MS = 300_000;
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

async function run(options: BenchOptions, cleanups: Array<() => Promise<unknown>>): Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  log(`building the server; starting the stores (${options.stores})`);
  // Settled, not all: whichever fails, the other has finished and registered its cleanups before they run.
  const build = options.serverDir === null ? buildServer(ROOT) : builtServer(options.serverDir);
  const [built, started] = await Promise.allSettled([build, startBenchStores(options, runId, cleanups)]);
  if (built.status === 'rejected') throw built.reason;
  if (started.status === 'rejected') throw started.reason;
  const [mainJs, stores] = [built.value, started.value];
  const probe = stores.probe;

  const authToken = randomBytes(24).toString('base64url');
  const nodeArgs = [
    ...options.serverNodeArgs,
    ...(options.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`]),
    ...(options.heapSnapshotDir === null ? [] : heapSnapshotNodeArgs(resolve(options.heapSnapshotDir))),
  ];
  if (options.heapSnapshotDir !== null) mkdirSync(options.heapSnapshotDir, { recursive: true });
  const metricsPort = await freePort();
  const keys = `bench:${randomBytes(32).toString('base64')}`;
  const server = await startServerProcess({
    mainJs,
    port: await freePort(),
    nodeArgs,
    env: {
      // Its V8 heap figures, for the memory table (prom-client's default metrics).
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      NODE_ENV: 'production',
      ...stores.env,
      MFA_ENCRYPTION_KEYS: keys,
      // Callers authenticate in production; a server without caller tokens ignores both halves.
      MFA_AUTH_TOKENS: `bench:${authToken}`,
      // warn: one log line per call would be measured too. 100 is the most the config takes; no check fails anyway.
      LOG_LEVEL: 'warn',
      MFA_MAX_FAILED_ATTEMPTS: '100',
      // verify_totp_assert asks for MFA assertions (issue 25).
      MFA_ASSERTION_ISSUER: 'https://mfa.bench',
      // The store round trips counted per call are the calls' own: no sweep for a dead instance's events
      // (there is none; every event is relayed by its writer at once) lands in a count. It runs at start.
      // With --rounds (the scaling run, docs/benchmark.md) it runs as deployed, every 5 s: its cost is part of the figures.
      MFA_EVENT_SWEEP_SECONDS: options.rounds > 1 ? '5' : '3600',
      // verify_webauthn's software keys answer for this relying party.
      MFA_WEBAUTHN_RP_ID: BENCH_RP_ID,
      MFA_WEBAUTHN_ORIGINS: BENCH_ORIGIN,
    },
  });
  let serverStopped = false;
  cleanups.push(async () => {
    if (serverStopped) return;
    const code = await server.stop();
    if (code !== 0) log(`warning: the server exited with ${code}; its output:\n${server.output()}`);
  });
  log(`server pid ${server.pid} on port ${server.port} (stores: ${stores.kind})`);
  // The server has created its collections (and their indexes) at its start.
  await stores.createIndexes();
  if (options.seed > 0 && probe !== null) {
    log(`seeding ${options.seed} users straight into the store`);
    const began = Date.now();
    await seedUsers({ mongoUrl: stores.env['MONGO_URL']!, mongoDb: stores.env['MONGO_DB']!, keys, count: options.seed, prefix: `seed-${runId}-` });
    log(`seeded ${options.seed} users in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
  const memoryWatch = new MemoryWatch(server.pid, metricsPort);
  cleanups.push(async () => memoryWatch.stop());

  const generator = startLoadGenerator(
    {
      port: server.port,
      channels: options.channels,
      concurrency: options.concurrency,
      serverPid: server.pid,
      storeProcesses: stores.storeProcesses,
      authToken,
      runId,
      stores: probe === null ? null : { redisUrl: stores.env['REDIS_URL']!, mongoUrl: stores.env['MONGO_URL']!, mongoDb: stores.env['MONGO_DB']! },
      setupConcurrency: stores.kind === 'ferretdb' ? SQLITE_SETUP_CONCURRENCY : SETUP_CONCURRENCY,
    },
    // The floors' profile: the load generator's own, cut to their windows.
    options.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir, GENERATOR_PROFILE_DIR)}`],
  );
  cleanups.push(() => generator.stop());

  // The setup's security events (MFA_ENABLED, DEVICE_REMEMBERED) are moved to the log before anything is measured.
  const awaitRelayed = async () => {
    if (probe === null) return;
    log('waiting for the relay to move the setup\'s security events');
    await probe.awaitRelayed(FACTORS_COLLECTION, RELAY_WAIT_MS);
  };
  log(`enrolling ${options.users} users`);
  await generator.request({ kind: 'enroll-users', count: options.users });
  await awaitRelayed();
  // Collections created by the first writes (the event log's positions) too.
  await stores.createIndexes();
  const mongoSize = probe === null ? null : await probe.collectionSize(FACTORS_COLLECTION);
  log(`creating ${options.pending} pending enrollments`);
  const usedMemoryBefore = await probe?.redisUsedMemory();
  await generator.request({ kind: 'begin-pending', count: options.pending });
  const usedMemoryAfter = await probe?.redisUsedMemory();
  if (options.scenarios.includes('verify_webauthn')) {
    // Several keys per call in flight: each user's logins go one at a time (the key's counter moves in order).
    const count = 4 * options.concurrency;
    log(`registering ${count} users with a software security key`);
    await generator.request({ kind: 'register-keys', count });
    await awaitRelayed();
  }
  if (options.scenarios.includes('check_device')) {
    await generator.request({ kind: 'remember-devices', count: Math.min(DEVICE_USERS, Math.ceil(options.users / 5)) });
    await awaitRelayed();
  }

  // The peak so far after each phase: which one raised it.
  const peakRssMib: Record<string, number> = { setup: mib(rssBytes(server.pid).peak) };
  const memory = new Map([['setup', await serverMemory(server.pid, metricsPort)]]);
  const results = new Map<ScenarioName, ScenarioResult>();
  // The store floors need stores to reach: none with the embedded ones, where health is the only floor.
  const scenarios = options.scenarios.filter((scenario) => probe !== null || !isFloor(scenario));
  const windows: MeasuredWindow[] = [];
  // Users with MFA on: seeded and enrolled (counting the documents would read them all on FerretDB).
  let enrolled = options.users;
  // --rounds: the list again and again, so each floor and its scenario alternate on the same collection.
  const plan = Array.from({ length: options.rounds }, (_, i) => scenarios.map((scenario) => ({ round: i + 1, scenario }))).flat();
  for (const { round, scenario } of plan) {
    // Before each window: no dead rows of the last one (FerretDB rewrites a row per update; autovacuum may be off).
    await stores.vacuumAnalyze();
    memoryWatch.phase = scenario;
    if (isFloor(scenario)) await generator.request({ kind: 'open-floor' });
    if (SPENDS_CODES.has(scenario)) {
      const sized = (await generator.request({ kind: 'size-users', scenario, warmupMs: options.warmupS * 1000, durationMs: options.durationS * 1000, headroom: options.sizingHeadroom })) as {
        probedRps: number;
        added: number;
        users: number;
      };
      enrolled = sized.users;
      log(`${scenario}: probed at ${sized.probedRps} req/s (logins on the copy); enrolled ${sized.added} more users for its window (${sized.users} in all), each logged in once`);
      // Their MFA_ENABLED events too (the load generator tops the users up right before the window if this took long).
      if (sized.added > 0) await awaitRelayed();
    }
    log(`${scenario}: ${options.warmupS} s warm-up, ${options.durationS} s measured`);
    const result = await measureScenario(scenario, options, { generator, probe });
    results.set(scenario, result);
    windows.push({ round, scenario, result, users: options.seed + enrolled });
    // Its connections closed: the next scenario has the stores to the service alone.
    if (isFloor(scenario)) await generator.request({ kind: 'close-floor' });
    peakRssMib[scenario] = mib(rssBytes(server.pid).peak);
    memory.set(scenario, await serverMemory(server.pid, metricsPort));
  }
  const rss = rssBytes(server.pid);
  memoryWatch.stop();
  const highest = memoryWatch.highest;
  if (highest !== null) memory.set(`highest RSS sampled (in ${highest.phase})`, highest.memory);
  // After the peaks are read: writing a snapshot takes memory of its own.
  let heap: { summary: HeapSummary; path: string } | null = null;
  if (options.heapSnapshotDir !== null) {
    log('the server writes a heap snapshot');
    // A snapshot that fails (too slow, too big to read) costs its table, not the run's results.
    try {
      const path = await takeHeapSnapshot(server.pid, resolve(options.heapSnapshotDir), () => serverMemory(server.pid, metricsPort));
      heap = { summary: summariseHeapSnapshot(path), path };
    } catch (error) {
      log(`warning: no heap snapshot summary: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  await generator.stop();
  const exitCode = await server.stop();
  serverStopped = true;
  if (exitCode !== 0) throw new Error(`the server exited with ${exitCode} after the run:\n${server.output()}`);
  // pino levels 50 and 60: error and fatal (an INTERNAL status logs its cause at error).
  const serverErrors = server.output().split('\n').filter((line) => /"level":(50|60)\b/.test(line));
  if (serverErrors.length > 0) log(`the server logged ${serverErrors.length} error(s); the last:\n${serverErrors.slice(-3).join('\n')}`);

  const report = buildReport({
    scenarios: results,
    peakRssBytes: rss.peak,
    mongo: mongoSize === null ? null : { ...mongoSize, kind: stores.kind },
    redis: usedMemoryBefore === undefined || usedMemoryAfter === undefined ? null : { usedMemoryBefore, usedMemoryAfter, pending: options.pending },
    extra: {
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? '', memory_mib: Math.round(totalmem() / 2 ** 20), node: process.version, clk_tck: clockTicksPerSecond(), stores: stores.kind },
      options: { ...options, postgresUrl: withoutPassword(options.postgresUrl) },
      rss_at_end_mib: mib(rss.now),
      heap_snapshot: heap === null ? null : { file: heap.path, live_mib: mib(heap.summary.liveBytes), native_mib: mib(heap.summary.nativeBytes), objects: heap.summary.objects },
      peak_rss_after_mib: peakRssMib,
      memory_after_mib: Object.fromEntries(memory),
      processes: { server_pid: server.pid, load_generator_pid: generator.pid, ...stores.describe },
    },
  });
  process.stdout.write(`${markdown(report)}\n`);
  const phases = Object.entries(peakRssMib).map(([phase, value]) => `${phase} ${value}`).join(' · ');
  process.stdout.write(`\nServer peak RSS (MiB) after each phase: ${phases}; at the end ${mib(rss.now)}.\n`);
  process.stdout.write(
    `\nServer memory (MiB) at the end of each phase, and at the highest RSS sampled every ${MemoryWatch.SAMPLE_MS} ms:\n\n${memoryMarkdown(memory)}\n`,
  );
  if (heap !== null) {
    process.stdout.write(`\n${heapSummaryMarkdown(heap.summary, 'Server heap after the last scenario, once V8 collected its garbage')}\n\n(${heap.path}: open it in Chrome DevTools, Memory.)\n`);
  }
  if (options.rounds > 1 || options.seed > 0) process.stdout.write(`\n${windowsMarkdown(windows, stores.kind === 'ferretdb-postgres')}\n`);
  if (options.json !== null) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.profileDir !== null) printProfile(options.profileDir, results);

  // Failed calls are a result (a store slower than the service's timeout, say), not a failure of the benchmark.
  for (const [name, s] of Object.entries(report.scenarios)) {
    if (Object.keys(s.errors).length > 0) log(`warning: ${name} had failed calls: ${JSON.stringify(s.errors)}`);
  }
}

function mib(bytes: number): number {
  return Math.round((10 * bytes) / 2 ** 20) / 10;
}

/**
 * The server's profile cut to each RPC scenario's measured window (setup is
 * left out), and the load generator's cut to each store floor's: there, the
 * drivers alone.
 */
function printProfile(dir: string, results: ReadonlyMap<ScenarioName, ScenarioResult>): void {
  const windows = (floors: boolean) =>
    [...results]
      .filter(([name]) => isFloor(name) === floors)
      .map(([name, result]) => ({ name, startUs: result.windowStartUs, endUs: result.windowEndUs, calls: result.windowCalls }));
  const server = newestProfile(dir);
  if (server !== null) process.stdout.write(`\n${profileMarkdown(summariseProfile(server, windows(false)))}\n`);
  const floors = windows(true);
  const generator = floors.length === 0 ? null : newestProfile(join(dir, GENERATOR_PROFILE_DIR));
  if (generator !== null) process.stdout.write(`\n${profileMarkdown(summariseProfile(generator, floors), 'Store floor CPU profile (the load generator)')}\n`);
}

function newestProfile(dir: string): string | null {
  const newest = existsSync(dir)
    ? readdirSync(dir)
        // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: the main thread's (0), not a loader worker's (tsx has one).
        .filter((name) => /\.0\.\d+\.cpuprofile$/.test(name))
        .sort()
        .at(-1)
    : undefined;
  if (newest === undefined) log(`no .cpuprofile in ${dir}`);
  return newest === undefined ? null : join(dir, newest);
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    await run(options, cleanups);
    return 0;
  } catch (error) {
    // After Ctrl-C the cleanups close what the run still uses: its failure then is no news.
    if (interruptedAt !== 0) return 130;
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await runCleanups();
  }
}

/** When the first Ctrl-C came (0: none). */
let interruptedAt = 0;

/** What the run started, to stop (and drop) in reverse order, on any exit. */
const cleanups: Array<() => Promise<unknown>> = [];

/** Runs each registered cleanup once, newest first; safe to call twice (Ctrl-C during the finally). */
async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
  }
}

// Ctrl-C: clean up (a shared PostgreSQL keeps the run's database otherwise), then exit; the 'exit'
// handlers kill whatever is still running. tsx relays the terminal's SIGINT, so one Ctrl-C can
// arrive twice: only a second Ctrl-C a second later exits at once.
process.on('SIGINT', () => {
  if (interruptedAt === 0) {
    interruptedAt = Date.now();
    log('interrupted: cleaning up (Ctrl-C again to exit at once)');
    void runCleanups().finally(() => process.exit(130));
  } else if (Date.now() - interruptedAt > 1_000) {
    process.exit(130);
  }
});
main().then((code) => process.exit(code));
