import type { ScenarioMeasurement } from './load-generator-process.js';
import type { ScenarioName } from './options.js';

/** A measured scenario with the store traffic the orchestrator counted around it. */
export interface ScenarioResult extends ScenarioMeasurement {
  /** Redis round trips per call (MONITOR, script-internal commands left out), over a sample of sequential calls; null if one failed. */
  readonly redisRoundTrips: number | null;
  /** MongoDB read/write commands per call over the same sample. */
  readonly mongoRoundTrips: number | null;
}

export interface RunFacts {
  readonly scenarios: ReadonlyMap<ScenarioName, ScenarioResult>;
  readonly peakRssBytes: number;
  /** Null for the embedded stores (as is redis). */
  readonly mongo: { readonly size: number; readonly documents: number; readonly meanBsonBytes: number; readonly kind: string } | null;
  readonly redis: { readonly usedMemoryBefore: number; readonly usedMemoryAfter: number; readonly pending: number } | null;
  readonly extra: Record<string, unknown>;
}

interface ScenarioDetails {
  readonly window_s: number;
  readonly window_calls: number;
  readonly window_failed_calls: number;
  readonly total_calls: number;
  readonly load_generator_cpu_pct: number;
  readonly server_cpu_pct: number;
  readonly redis_round_trips_per_call: number | null;
  readonly mongo_round_trips_per_call: number | null;
  readonly cut_short: string | null;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The JSON of `--json FILE`: the issue's fields first, then ratios, targets and details. */
export function buildReport(facts: RunFacts) {
  const scenarios: Record<string, { rps: number; p50_ms: number; p90_ms: number; p99_ms: number; server_cpu_us: number; errors: Record<string, number> }> = {};
  const details: Record<string, ScenarioDetails> = {};
  for (const [name, result] of facts.scenarios) {
    const windowS = result.windowMs / 1000;
    scenarios[name] = {
      rps: round(result.windowSuccesses / windowS, 1),
      p50_ms: round(result.p50Ms, 3),
      p90_ms: round(result.p90Ms, 3),
      p99_ms: round(result.p99Ms, 3),
      server_cpu_us: round(result.serverCpuUs / Math.max(1, result.windowCalls), 1),
      errors: result.errors,
    };
    details[name] = {
      window_s: round(windowS, 3),
      window_calls: result.windowCalls,
      window_failed_calls: result.windowCalls - result.windowSuccesses,
      total_calls: result.totalCalls,
      load_generator_cpu_pct: round((100 * result.clientCpuUs) / result.windowMs / 1000, 1),
      server_cpu_pct: round((100 * result.serverCpuUs) / result.windowMs / 1000, 1),
      redis_round_trips_per_call: result.redisRoundTrips === null ? null : round(result.redisRoundTrips, 2),
      mongo_round_trips_per_call: result.mongoRoundTrips === null ? null : round(result.mongoRoundTrips, 2),
      cut_short: result.cutShort,
    };
  }
  const floor = scenarios['health']!;
  const ratios: Record<string, { rps: number; p99: number; server_cpu_us: number }> = {};
  for (const [name, s] of Object.entries(scenarios)) {
    ratios[name] = { rps: round(s.rps / floor.rps, 3), p99: round(s.p99_ms / floor.p99_ms, 3), server_cpu_us: round(s.server_cpu_us / floor.server_cpu_us, 3) };
  }
  const rssMib = round(facts.peakRssBytes / 1024 / 1024, 1);
  // MongoDB's data size (collStats.size, dbStats.dataSize) is the documents' BSON bytes: counted here the same way
  // on every backend, as FerretDB's collStats.size is its SQL tables' pages instead.
  const { mongo, redis } = facts;
  const mongoBytesPerUser = mongo === null ? null : round(mongo.meanBsonBytes, 1);
  const redisBytesPerPending = redis === null ? null : round((redis.usedMemoryAfter - redis.usedMemoryBefore) / redis.pending, 1);
  return {
    scenarios,
    rss_mib: rssMib,
    mongo_bytes_per_user: mongoBytesPerUser,
    redis_bytes_per_pending: redisBytesPerPending,
    ratios,
    // With the embedded stores every user and enrollment lives in the server: its RSS is not the service's footprint.
    targets: targets(ratios, details, { rssMib: mongo === null ? null : rssMib, mongoBytesPerUser, redisBytesPerPending }).map((target) =>
      target.met === null && mongo === null ? { ...target, note: 'n/a (embedded stores)' } : target,
    ),
    details: {
      scenarios: details,
      enroll_request: 'one BeginTotpEnrollment + ConfirmTotpEnrollment pair',
      counting: 'rps: successful calls per second of the window; p50/p90/p99: every call completed in the window; server_cpu_us: server CPU of the window / calls completed in it; errors: the whole scenario, warm-up included',
      mongo_bytes_per_user: mongo === null ? 'no MongoDB (embedded stores)' : `mean BSON size of the ${mongo.documents} documents of mfa_factors (what MongoDB counts as data size)`,
      mongo_storage_bytes_per_user: mongo === null ? null : round(mongo.size / Math.max(1, mongo.documents), 1),
      mongo_storage: mongo === null ? null : `collStats.size / documents on ${mongo.kind} (FerretDB: its SQL table's pages)`,
      redis_bytes_per_pending: redis === null ? 'no Redis (embedded stores)' : `INFO used_memory delta over ${redis.pending} BeginTotpEnrollment calls`,
    },
    ...facts.extra,
  };
}

export type BenchReport = ReturnType<typeof buildReport>;

interface Target {
  readonly target: string;
  readonly value: number | null;
  readonly limit: number;
  readonly met: boolean | null;
  /** Why there is no verdict, when met is null. */
  readonly note?: string;
}

// Issue 4's targets; each is a ratio within one run, or an absolute size.
function targets(
  ratios: Record<string, { rps: number; p99: number; server_cpu_us: number }>,
  details: Record<string, ScenarioDetails>,
  sizes: { rssMib: number | null; mongoBytesPerUser: number | null; redisBytesPerPending: number | null },
): Target[] {
  const atLeast = (target: string, value: number | null | undefined, limit: number): Target =>
    ({ target, value: value ?? null, limit, met: value == null ? null : value >= limit });
  const atMost = (target: string, value: number | null | undefined, limit: number): Target =>
    ({ target, value: value ?? null, limit, met: value == null ? null : value <= limit });
  return [
    atLeast('verify_totp rps / health rps', ratios['verify_totp']?.rps, 0.5),
    atMost('verify_totp server CPU / health', ratios['verify_totp']?.server_cpu_us, 4),
    atLeast('check_session rps / health rps', ratios['check_session']?.rps, 0.7),
    atLeast('check_device rps / health rps', ratios['check_device']?.rps, 0.7),
    atMost('verify_totp p99 / health p99', ratios['verify_totp']?.p99, 2),
    atLeast('enroll rps / health rps', ratios['enroll']?.rps, 0.1),
    atMost('peak RSS (MiB)', sizes.rssMib, 200),
    atMost('MongoDB bytes per enabled user', sizes.mongoBytesPerUser, 1024),
    atMost('Redis bytes per pending enrollment', sizes.redisBytesPerPending, 512),
    atMost('verify_totp Redis round trips per call', details['verify_totp']?.redis_round_trips_per_call, 1),
    atMost('verify_totp MongoDB round trips per call', details['verify_totp']?.mongo_round_trips_per_call, 2),
    atMost('check_session Redis round trips per call', details['check_session']?.redis_round_trips_per_call, 1),
    atMost('check_session MongoDB round trips per call', details['check_session']?.mongo_round_trips_per_call, 0),
  ];
}

/** The report as markdown: the scenario table, then the sizes and the targets. */
export function markdown(report: BenchReport): string {
  const lines = [
    '| scenario | req/s | p50 ms | p90 ms | p99 ms | server CPU µs/call | errors | req/s ÷ health | p99 ÷ health | CPU ÷ health | Redis trips/call | Mongo trips/call | load-gen CPU |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, s] of Object.entries(report.scenarios)) {
    const r = report.ratios[name]!;
    const d = report.details.scenarios[name]!;
    const errors = Object.entries(s.errors).map(([code, n]) => `${code}: ${n}`).join(', ') || '0';
    lines.push(
      `| ${name} | ${fixed(s.rps, 0)} | ${fixed(s.p50_ms, 2)} | ${fixed(s.p90_ms, 2)} | ${fixed(s.p99_ms, 2)} | ${fixed(s.server_cpu_us, 0)} | ${errors} | ` +
        `${fixed(r.rps, 2)} | ${fixed(r.p99, 2)} | ${fixed(r.server_cpu_us, 2)} | ${orDash(d.redis_round_trips_per_call, 1)} | ${orDash(d.mongo_round_trips_per_call, 1)} | ${fixed(d.load_generator_cpu_pct, 0)}% |`,
    );
  }
  for (const [name, d] of Object.entries(report.details.scenarios)) {
    if (d.cut_short !== null) lines.push('', `**${name}'s window ended after ${d.window_s} s**: ${d.cut_short}.`);
  }
  lines.push(
    '',
    `req/s counts successful calls; latency and CPU per call count every call completed in the window; errors count the whole scenario, warm-up included.`,
    '',
    `Peak server RSS ${report.rss_mib} MiB · MongoDB ${report.mongo_bytes_per_user ?? '–'} B per enabled user (${report.details.mongo_bytes_per_user}` +
      `${report.details.mongo_storage === null ? '' : `; ${report.details.mongo_storage_bytes_per_user} B in storage, ${report.details.mongo_storage}`}) · ` +
      `Redis ${report.redis_bytes_per_pending ?? '–'} B per pending enrollment (${report.details.redis_bytes_per_pending}). enroll: one request = ${report.details.enroll_request}.`,
    '',
    '| target (issue 4) | value | limit | |',
    '|---|---:|---:|---|',
    ...report.targets.map((t) => `| ${t.target} | ${t.value ?? '–'} | ${t.limit} | ${t.met === null ? (t.note ?? 'not measured') : t.met ? 'met' : 'MISSED'} |`),
  );
  return lines.join('\n');
}

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function orDash(value: number | null, digits: number): string {
  return value === null ? '–' : value.toFixed(digits);
}
