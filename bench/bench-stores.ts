import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startMongoServer } from '../dev/mongo-server.js';
import { startRedisServer } from '../dev/redis-server.js';
import type { BenchOptions } from './options.js';
import type { StoreProcesses } from './store-cpu.js';
import { StoreProbe } from './store-probe.js';

/** The stores of one run, as the server's environment sees them and as the probe reads them. */
export interface BenchStores {
  /** What the MongoDB side is ('external', 'ferretdb', 'ferretdb-postgres', 'mongod'), or 'memory'. */
  readonly kind: string;
  /** REDIS_URL, MONGO_URL and MONGO_DB for the server; empty URLs for the embedded stores. */
  readonly env: Record<string, string>;
  /** Null for the embedded stores: nothing to read from the outside. */
  readonly probe: StoreProbe | null;
  readonly describe: Record<string, unknown>;
  /**
   * On FerretDB on PostgreSQL, the `_id` index FerretDB cannot create itself,
   * on the run's collections that exist now (scripts/ferretdb-postgres-indexes.sh);
   * nothing elsewhere. Called once the server has created its collections, and after setup.
   */
  createIndexes(): Promise<void>;
  /** The stores' processes whose CPU each window reads (store-cpu.ts). */
  readonly storeProcesses: StoreProcesses;
  /**
   * On FerretDB on PostgreSQL, VACUUM ANALYZE of the run's database, before
   * each measured window: FerretDB rewrites a row per update, and with
   * autovacuum off (as on this project's test machine) dead rows pile up.
   */
  vacuumAnalyze(): Promise<void>;
}

async function psql(url: string, sql: string): Promise<void> {
  await promisify(execFile)('psql', [url, '--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '-c', sql], { timeout: 600_000 });
}

/**
 * Starts what `options.stores` asks for and registers a cleanup for each
 * thing started (the caller runs them, newest first, also after a failure).
 */
export async function startBenchStores(
  options: Pick<BenchOptions, 'stores' | 'postgresUrl'>,
  runId: string,
  cleanups: Array<() => Promise<unknown>>,
): Promise<BenchStores> {
  // Empty URLs, so that a REDIS_URL or MONGO_URL in the caller's shell does not reach the server (the config reads '' as unset).
  if (options.stores === 'memory') return { kind: 'memory', env: { REDIS_URL: '', MONGO_URL: '' }, probe: null, describe: { stores: 'embedded in-memory' }, createIndexes: async () => {}, storeProcesses: {}, vacuumAnalyze: async () => {} };

  // FerretDB on PostgreSQL gets a PostgreSQL database of the run's own: its backends are then told apart
  // from everyone else's by their command line (store-cpu.ts), and VACUUM ANALYZE is the run's alone.
  const postgresDatabase = options.stores === 'ferretdb-postgres' ? `bench_${runId}` : undefined;
  let postgresUrl: string | undefined;
  if (postgresDatabase !== undefined) {
    await psql(options.postgresUrl, `CREATE DATABASE ${postgresDatabase}`);
    // What scripts/ferretdb-postgres-indexes.sh sets, before FerretDB's first connection: no generic plans.
    await psql(options.postgresUrl, `ALTER DATABASE ${postgresDatabase} SET plan_cache_mode = force_custom_plan`);
    cleanups.push(() => psql(options.postgresUrl, `DROP DATABASE IF EXISTS ${postgresDatabase} WITH (FORCE)`));
    postgresUrl = Object.assign(new URL(options.postgresUrl), { pathname: `/${postgresDatabase}` }).href;
  }
  const [redis, mongo] = await Promise.allSettled([startRedisServer(), startMongoServer({ postgresUrl })]);
  if (redis.status === 'fulfilled') cleanups.push(() => redis.value.stop());
  if (mongo.status === 'fulfilled') cleanups.push(() => mongo.value.stop());
  if (redis.status === 'rejected') throw redis.reason;
  if (mongo.status === 'rejected') throw mongo.reason;

  // A shared server (MONGO_URL, a PostgreSQL that stays) gets a database of the run's own, dropped after.
  const mongoDb = mongo.value.shared ? `bench_${runId}` : 'bench';
  const probe = await StoreProbe.open(redis.value.url, mongo.value.url, mongoDb);
  cleanups.push(async () => {
    if (mongo.value.shared) await probe.dropDatabase();
    await probe.close();
  });
  return {
    kind: mongo.value.kind,
    env: { REDIS_URL: redis.value.url, MONGO_URL: mongo.value.url, MONGO_DB: mongoDb },
    probe,
    createIndexes: () => mongo.value.createPostgresIndexes(mongoDb),
    storeProcesses: { redisPort: redis.value.port, ferretdbPort: mongoPort(mongo.value.kind, mongo.value.url), postgresDatabase },
    vacuumAnalyze: async () => {
      if (postgresUrl !== undefined) await psql(postgresUrl, 'VACUUM ANALYZE');
    },
    describe: { redis_port: redis.value.port, mongo_url: mongo.value.url, ...(postgresUrl === undefined ? {} : { postgres_url: withoutPassword(postgresUrl) }) },
  };
}

/** The port of a FerretDB the run started (its process is found by it), else undefined. */
function mongoPort(kind: string, url: string): number | undefined {
  return kind === 'ferretdb' || kind === 'ferretdb-postgres' ? Number(new URL(url).port) : undefined;
}

/** The URL with any password taken out: it goes into the report. */
export function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password === '') return url;
  parsed.password = '';
  return parsed.href;
}
