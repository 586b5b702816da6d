import { parseArgs } from 'node:util';

/**
 * The scenarios, in the order one run measures them; `health` is the floor
 * the others are compared with. `floor_verify` and `floor_device` are the
 * store floors of verify_totp and check_device (bench/store-floor.ts): they
 * run, right before their RPC, whenever it does, on Redis and MongoDB only.
 */
export const SCENARIO_NAMES = ['health', 'floor_verify', 'verify_totp', 'verify_totp_assert', 'verify_webauthn', 'check_session', 'floor_device', 'check_device', 'enroll'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The scenarios that spend TOTP codes: the users are sized to each one's window before it runs. */
export const SPENDS_CODES: ReadonlySet<ScenarioName> = new Set(['verify_totp', 'verify_totp_assert']);

/** Each RPC scenario that has a store floor, and its floor. */
export const FLOOR_OF = { verify_totp: 'floor_verify', check_device: 'floor_device' } as const satisfies Partial<Record<ScenarioName, ScenarioName>>;

/** True for a store floor: no gRPC, the load generator's own store calls. */
export function isFloor(name: ScenarioName): boolean {
  return (Object.values(FLOOR_OF) as ScenarioName[]).includes(name);
}

/**
 * Where the service keeps its state during the run: `test` as `npm test`
 * provisions it (Redis, and MONGO_URL, a mongod on PATH or FerretDB on
 * SQLite); `ferretdb-postgres` the same with FerretDB keeping its data in
 * PostgreSQL; `memory` the embedded stores, so the service's own cost shows
 * without any store's.
 */
export const STORE_KINDS = ['test', 'ferretdb-postgres', 'memory'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** What `npm run bench -- ...` was asked to do. */
export interface BenchOptions {
  readonly durationS: number;
  readonly warmupS: number;
  readonly concurrency: number;
  readonly channels: number;
  readonly users: number;
  readonly pending: number;
  readonly scenarios: readonly ScenarioName[];
  readonly stores: StoreKind;
  readonly postgresUrl: string;
  readonly json: string | null;
  readonly profileDir: string | null;
  /** Node.js flags for the server process alone (--server-node-args), as a deployment would set them. */
  readonly serverNodeArgs: readonly string[];
  /** Where the server's heap snapshot after the last scenario goes (--heap-snapshot), or null for none. */
  readonly heapSnapshotDir: string | null;
  /** --sizing-headroom: how many times the probed rate verify_totp's users are sized for. */
  readonly sizingHeadroom: number;
  /** --seed: users written straight into the collection before the enrolled ones (seed-users.ts). */
  readonly seed: number;
  /** --rounds: how many times the scenarios run, one after the other, floor and scenario alternating. */
  readonly rounds: number;
  /** --server-dir: the compiled service to run (its main.js), or null to compile one for the run. */
  readonly serverDir: string | null;
}

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export const USAGE = `usage: npm run bench -- [options]
  --duration S       measured seconds per scenario (default 10)
  --warmup S         warm-up seconds before each measured window (default 3)
  --concurrency N    calls kept in flight (default 64)
  --channels N       HTTP/2 connections the calls are spread over (default 4)
  --users N          users enrolled before the scenarios (default 3000); MongoDB bytes per user
                     are measured on them; before verify_totp, which spends their codes, the
                     bench enrolls as many more as its measured rate needs for the window
  --pending N        pending enrollments created to measure Redis bytes per pending (default 2000)
  --scenarios LIST   comma-separated subset of ${SCENARIO_NAMES.join(',')} (health always runs)
  --stores KIND      test: Redis + what npm test uses for MongoDB (MONGO_URL, a mongod on PATH,
                       else FerretDB on SQLite) (default);
                     ferretdb-postgres: Redis + FerretDB keeping its data in PostgreSQL;
                     memory: the embedded in-memory stores (the service's own cost, no store's)
  --postgres-url URL PostgreSQL database for ferretdb-postgres (default ${DEFAULT_POSTGRES_URL})
  --json FILE        also write the results as JSON
  --profile DIR      run the server with --cpu-prof into DIR and print its top self-time functions
  --server-node-args=FLAGS  Node.js flags for the server process only, e.g. --server-node-args=--max-old-space-size=64
                     (several: quoted, space-separated, after the =)
  --sizing-headroom X  size verify_totp's users for X times the rate its probes measured
                     (default 1.5); more where the machine's load changes during the run,
                     as in npm test, whose other files run beside the smoke run
  --heap-snapshot DIR  after the last scenario, have the server write a heap snapshot into DIR
                     (V8 runs a full GC first) and print what is live in it by constructor
  --seed N           users written straight into the store before the enrolled ones (default 0),
                     as the service writes them (its store adapter, the run's keyring): the
                     collection then holds N + --users users, in seconds rather than hours
  --rounds N         run the scenarios N times over, alternating each floor with its scenario,
                     and print every window (default 1)
  --server-dir DIR   run the service compiled in DIR (e.g. dist after npm run build) instead of
                     compiling src/ for the run (npm test's smoke run shares one build)
  --help`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        duration: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '3' },
        concurrency: { type: 'string', default: '64' },
        channels: { type: 'string', default: '4' },
        users: { type: 'string', default: '3000' },
        pending: { type: 'string', default: '2000' },
        scenarios: { type: 'string', default: SCENARIO_NAMES.join(',') },
        stores: { type: 'string', default: 'test' },
        'postgres-url': { type: 'string' },
        json: { type: 'string' },
        profile: { type: 'string' },
        'server-node-args': { type: 'string' },
        'heap-snapshot': { type: 'string' },
        'sizing-headroom': { type: 'string', default: '1.5' },
        seed: { type: 'string', default: '0' },
        rounds: { type: 'string', default: '1' },
        'server-dir': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const concurrency = count('--concurrency', values.concurrency, 1);
  const users = count('--users', values.users, 1);
  const stores = storeKind(values.stores);
  // Each user's codes are spent in step order; with fewer users than calls in
  // flight, one user's calls would overtake each other and fail as replays.
  if (users < 2 * concurrency) throw new UsageError(`--users must be at least 2 x --concurrency (${2 * concurrency})`);
  return {
    durationS: seconds('--duration', values.duration, 0.1),
    warmupS: seconds('--warmup', values.warmup, 0),
    concurrency,
    channels: count('--channels', values.channels, 1),
    users,
    pending: count('--pending', values.pending, 1),
    scenarios: scenarioList(values.scenarios),
    stores,
    postgresUrl: postgresUrl(values['postgres-url'], stores),
    json: values.json ?? null,
    profileDir: values.profile ?? null,
    serverNodeArgs: serverNodeArgs(values['server-node-args']),
    heapSnapshotDir: values['heap-snapshot'] ?? null,
    sizingHeadroom: seconds('--sizing-headroom', values['sizing-headroom'], 1),
    seed: count('--seed', values.seed, 0),
    rounds: count('--rounds', values.rounds, 1),
    serverDir: values['server-dir'] ?? null,
  };
}

function seconds(flag: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) throw new UsageError(`${flag} must be a number of seconds >= ${min}, got "${text}"`);
  return value;
}

function count(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${flag} must be a whole number >= ${min}, got "${text}"`);
  return Number(text);
}

function serverNodeArgs(text: string | undefined): string[] {
  const args = (text ?? '').split(/\s+/).filter((arg) => arg !== '');
  const bad = args.find((arg) => !arg.startsWith('--'));
  if (bad !== undefined) throw new UsageError(`--server-node-args takes Node.js flags (--name or --name=value), got "${bad}"`);
  return args;
}

function postgresUrl(text: string | undefined, stores: StoreKind): string {
  if (text === undefined) return DEFAULT_POSTGRES_URL;
  if (stores !== 'ferretdb-postgres') throw new UsageError('--postgres-url goes with --stores ferretdb-postgres');
  if (!/^postgres(ql)?:\/\/./.test(text)) throw new UsageError(`--postgres-url must be a postgres:// URL, got "${text}"`);
  return text;
}

function storeKind(text: string): StoreKind {
  if (!(STORE_KINDS as readonly string[]).includes(text)) throw new UsageError(`--stores must be one of ${STORE_KINDS.join(', ')}, got "${text}"`);
  return text as StoreKind;
}

function scenarioList(text: string): ScenarioName[] {
  const asked = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of asked) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(', ')}`);
    }
  }
  // The ratios need the floors, and the order is fixed so runs compare.
  const floors = Object.entries(FLOOR_OF).filter(([rpc]) => asked.includes(rpc)).map(([, floor]) => floor as string);
  return SCENARIO_NAMES.filter((name) => name === 'health' || asked.includes(name) || floors.includes(name));
}
