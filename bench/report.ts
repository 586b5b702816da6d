import type { ScenarioMeasurement } from './load-generator-process.js';
import { FLOOR_OF, isFloor, type ScenarioName } from './options.js';

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

/** Each RPC with a store floor, against it. */
type Floors = Record<
  string,
  { floor: string; rps: number; floor_rps: number; rps_ratio: number; cpu_us: number; floor_cpu_us: number; cpu_beyond_health_and_floor_us: number }
>;

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
      // A floor runs in the load generator, with the server idle: its CPU is the generator's own.
      server_cpu_us: round((isFloor(name) ? result.clientCpuUs : result.serverCpuUs) / Math.max(1, result.windowCalls), 1),
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
  // Each RPC against its store floor (issue 11): req/s as a ratio, and the CPU it spends beyond health's and the floor's.
  const floors: Floors = {};
  for (const [rpc, floorName] of Object.entries(FLOOR_OF)) {
    const [measured, floorOne] = [scenarios[rpc], scenarios[floorName]];
    if (measured === undefined || floorOne === undefined) continue;
    floors[rpc] = {
      floor: floorName,
      rps: measured.rps,
      floor_rps: floorOne.rps,
      rps_ratio: round(measured.rps / floorOne.rps, 3),
      cpu_us: measured.server_cpu_us,
      floor_cpu_us: floorOne.server_cpu_us,
      cpu_beyond_health_and_floor_us: round(measured.server_cpu_us - floor.server_cpu_us - floorOne.server_cpu_us, 1),
    };
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
    floors,
    // With the embedded stores every user and enrollment lives in the server: its RSS is not the service's footprint.
    targets: targets(ratios, details, floors, mongo !== null, { rssMib: mongo === null ? null : rssMib, mongoBytesPerUser, redisBytesPerPending }),
    details: {
      scenarios: details,
      enroll_request: 'one BeginTotpEnrollment (qr_formats: PNG) + ConfirmTotpEnrollment pair',
      verify_webauthn_request: 'one BeginWebAuthnAuthentication + VerifyWebAuthn pair (a software ES256 key signs in the load generator)',
      floors: 'floor_verify: the lockout script + one conditional updateOne by _id; floor_device: one findOne by _id; the service\'s drivers and options, no gRPC, run by the load generator: their CPU is its own',
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


// Issue 4's and issue 11's targets; each is a ratio within one run, or an absolute size. A target
// for the other kind of stores than this run's has no verdict.
function targets(
  ratios: Record<string, { rps: number; p99: number; server_cpu_us: number }>,
  details: Record<string, ScenarioDetails>,
  floors: Floors,
  realStores: boolean,
  sizes: { rssMib: number | null; mongoBytesPerUser: number | null; redisBytesPerPending: number | null },
): Target[] {
  const verdict = (target: string, value: number | null | undefined, limit: number, ok: (value: number) => boolean, on: 'real' | 'embedded' | 'any'): Target => {
    if (on !== 'any' && (on === 'real') !== realStores) return { target, value: value ?? null, limit, met: null, note: `n/a (${on} stores only)` };
    if (value == null) return { target, value: null, limit, met: null, note: realStores ? 'not measured' : 'n/a (embedded stores)' };
    return { target, value, limit, met: ok(value) };
  };
  const atLeast = (target: string, value: number | null | undefined, limit: number, on: 'real' | 'embedded' | 'any' = 'any') =>
    verdict(target, value, limit, (v) => v >= limit, on);
  const atMost = (target: string, value: number | null | undefined, limit: number, on: 'real' | 'embedded' | 'any' = 'any') =>
    verdict(target, value, limit, (v) => v <= limit, on);
  const checkDevice = floors['check_device'];
  return [
    // Begin + Verify counted as one request, in the same run as verify_totp (issue 23).
    atLeast('verify_webauthn rps / verify_totp rps (issue 23)', ratios['verify_webauthn'] && ratios['verify_totp'] && round(ratios['verify_webauthn'].rps / ratios['verify_totp'].rps, 3), 0.5),
    atLeast('verify_totp rps / floor_verify rps (issue 11)', floors['verify_totp']?.rps_ratio, 0.7, 'real'),
    atMost('verify_totp CPU µs beyond health + floor_verify (issue 11)', floors['verify_totp']?.cpu_beyond_health_and_floor_us, 150, 'real'),
    // Or ≥ 0.7× health, when its read leaves MongoDB.
    atLeast('check_device rps / max(floor_device, or health if faster) (issue 11)', checkDevice && Math.max(checkDevice.rps_ratio, ratios['check_device']!.rps), 0.7, 'real'),
    atLeast('verify_totp rps / health rps (issue 11)', ratios['verify_totp']?.rps, 0.6, 'embedded'),
    atMost('verify_totp server CPU / health (issue 11)', ratios['verify_totp']?.server_cpu_us, 2.5, 'embedded'),
    atLeast('check_session rps / health rps (issue 11)', ratios['check_session']?.rps, 0.75, 'embedded'),
    atLeast('enroll rps / health rps (issue 11)', ratios['enroll']?.rps, 0.1, 'embedded'),
    atMost('peak RSS (MiB)', sizes.rssMib, 200, 'real'),
    atLeast('verify_totp rps / health rps (issue 4)', ratios['verify_totp']?.rps, 0.5),
    atMost('verify_totp server CPU / health (issue 4)', ratios['verify_totp']?.server_cpu_us, 4),
    atLeast('check_session rps / health rps (issue 4)', ratios['check_session']?.rps, 0.7),
    atLeast('check_device rps / health rps (issue 4)', ratios['check_device']?.rps, 0.7),
    atMost('verify_totp p99 / health p99 (issue 4)', ratios['verify_totp']?.p99, 2),
    atMost('MongoDB bytes per enabled user', sizes.mongoBytesPerUser, 1024, 'real'),
    atMost('Redis bytes per pending enrollment', sizes.redisBytesPerPending, 512, 'real'),
    atMost('verify_totp Redis round trips per call (issue 4)', details['verify_totp']?.redis_round_trips_per_call, 1, 'real'),
    atMost('verify_totp MongoDB round trips per call', details['verify_totp']?.mongo_round_trips_per_call, 2, 'real'),
    // Signing costs under 20% of verify_totp's throughput (issue 25).
    atLeast('verify_totp_assert rps / verify_totp rps (issue 25)', ratioOf(ratios, 'verify_totp_assert', 'verify_totp'), 0.8),
    atMost('verify_totp_assert MongoDB round trips per call (issue 25: as many as verify_totp)', details['verify_totp_assert']?.mongo_round_trips_per_call, 2, 'real'),
    atMost('check_session Redis round trips per call', details['check_session']?.redis_round_trips_per_call, 1, 'real'),
    atMost('check_session MongoDB round trips per call', details['check_session']?.mongo_round_trips_per_call, 0, 'real'),
  ];
}

/** a's req/s over b's (both against health, so health cancels out), when both ran. */
function ratioOf(ratios: Record<string, { rps: number }>, a: string, b: string): number | null {
  const [ra, rb] = [ratios[a]?.rps, ratios[b]?.rps];
  return ra === undefined || rb === undefined || rb === 0 ? null : Math.round((ra / rb) * 1000) / 1000;
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
  if (Object.keys(report.floors).length > 0) {
    lines.push(
      '',
      '| against its store floor | req/s | floor req/s | req/s ÷ floor | server CPU µs/call | floor CPU µs/call | CPU beyond health + floor µs |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...Object.entries(report.floors).map(
        ([name, f]) =>
          `| ${name} (${f.floor}) | ${fixed(f.rps, 0)} | ${fixed(f.floor_rps, 0)} | ${fixed(f.rps_ratio, 2)} | ${fixed(f.cpu_us, 0)} | ${fixed(f.floor_cpu_us, 0)} | ${fixed(f.cpu_beyond_health_and_floor_us, 0)} |`,
      ),
      '',
      `Floors: ${report.details.floors}.`,
    );
  }
  lines.push(
    '',
    `req/s counts successful calls; latency and CPU per call count every call completed in the window; errors count the whole scenario, warm-up included.`,
    '',
    `Peak server RSS ${report.rss_mib} MiB · MongoDB ${report.mongo_bytes_per_user ?? '–'} B per enabled user (${report.details.mongo_bytes_per_user}` +
      `${report.details.mongo_storage === null ? '' : `; ${report.details.mongo_storage_bytes_per_user} B in storage, ${report.details.mongo_storage}`}) · ` +
      `Redis ${report.redis_bytes_per_pending ?? '–'} B per pending enrollment (${report.details.redis_bytes_per_pending}). enroll: one request = ${report.details.enroll_request}.`,
    '',
    '| target | value | limit | |',
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
