import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { freePort } from './free-port.js';
import { createFerretDbPostgresIndexes } from './ferretdb-postgres-indexes.js';
import { findOnPath, listens, removeOnExit, spawnLogged, stopProcess, waitUntilReady } from './child-process.js';

/** A MongoDB-compatible server for tests; restart() keeps the port and the data, for outage tests. */
export interface TestMongo {
  url: string;
  kind: 'external' | 'mongod' | 'ferretdb' | 'ferretdb-postgres';
  /** Its data outlives it (MONGO_URL, or FerretDB on a PostgreSQL that stays): use a database of your own and drop it. */
  shared: boolean;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /**
   * On FerretDB on PostgreSQL, the `_id` index FerretDB cannot create itself
   * (scripts/ferretdb-postgres-indexes.sh) on the collections of `database`
   * that exist now: call it once the service has started (it creates its
   * collections then) and after seeding. Nothing to do on other servers.
   */
  createPostgresIndexes(database: string): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
/**
 * FerretDB 1.24 on PostgreSQL runs an update on two pooled PostgreSQL
 * connections: it holds the one its query reads from while it takes another
 * for the update's transaction (internal/handler/msg_update.go). With as many
 * updates in flight as its pool has connections (pool_max_conns, 50 unless
 * the URL says), each holds one and waits for a second, and the server stops
 * answering for good; a goroutine dump shows them all in pgxpool Acquire. So
 * its pool is sized above what its clients can have in flight: each client's
 * URL caps the driver's pool at CLIENT_POOL, and at most two pools (the
 * service's and the bench's store floor) plus a probe's few connections run
 * at once. PostgreSQL's default max_connections is 100.
 */
const FERRETDB_PG_POOL = 80;
const CLIENT_POOL = 36;
const NO_SERVER_HINT =
  'no MongoDB-compatible server: set MONGO_URL, put mongod on PATH, or install Go so FerretDB can be built (scripts/ensure-tool.sh ferretdb)';
const ENSURE_TOOL = resolve(dirname(fileURLToPath(import.meta.url)), '../scripts/ensure-tool.sh');

/**
 * Uses MONGO_URL if set, else a private mongod from PATH, else a private
 * FerretDB (SQLite) built on first use. With `postgresUrl`, always a private
 * FerretDB whose handler keeps the data in that PostgreSQL database (much
 * faster than SQLite under load: the benchmark's `--stores ferretdb-postgres`).
 */
export async function startMongoServer(options: { readonly postgresUrl?: string } = {}): Promise<TestMongo> {
  const external = process.env['MONGO_URL'];
  if (options.postgresUrl === undefined && external !== undefined && external !== '') return useExternal(external);

  const dir = await mkdtemp(join(tmpdir(), 'mfa-test-mongo-'));
  removeOnExit(dir);
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const port = await freePort();
  const common = [`--listen-addr=127.0.0.1:${port}`, `--state-dir=${dir}`, '--telemetry=disable', '--debug-addr=-', '--log-level=error'];
  if (options.postgresUrl !== undefined) {
    await assertPostgresListens(options.postgresUrl);
    // Through the environment, not the command line, where a password in the URL would show.
    const env = { FERRETDB_POSTGRESQL_URL: withPoolMaxConns(options.postgresUrl) };
    const server = await startLocal('ferretdb-postgres', await buildFerretDb(), ['--handler=postgresql', ...common], port, dir, env);
    const postgresUrl = options.postgresUrl;
    return { ...server, createPostgresIndexes: (database) => createFerretDbPostgresIndexes(postgresUrl, database) };
  }
  const mongod = findOnPath('mongod');
  if (mongod !== undefined) {
    const args = ['--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dataDir, '--quiet'];
    return startLocal('mongod', mongod, args, port, dir);
  }
  const ferretdb = await buildFerretDb();
  return startLocal('ferretdb', ferretdb, ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`, ...common], port, dir);
}

async function useExternal(url: string): Promise<TestMongo> {
  if (!(await answersPing(url))) throw new Error(`MONGO_URL ${url} does not answer ping`);
  return {
    url,
    kind: 'external',
    shared: true,
    stop: async () => {},
    restart: async () => {
      throw new Error('cannot restart an external MONGO_URL server');
    },
    createPostgresIndexes: async () => {},
  };
}

async function startLocal(
  kind: 'mongod' | 'ferretdb' | 'ferretdb-postgres',
  binary: string,
  args: string[],
  port: number,
  dir: string,
  env?: Record<string, string>,
): Promise<TestMongo> {
  const url = `mongodb://127.0.0.1:${port}/${kind === 'ferretdb-postgres' ? `?maxPoolSize=${CLIENT_POOL}` : ''}`;
  const logFile = join(dir, `${kind}.log`);
  const launch = async () => {
    const child = spawnLogged(binary, args, logFile, env);
    await waitUntilReady(`${kind} on port ${port}`, child, logFile, () => answersPing(url), READY_TIMEOUT_MS);
    return child;
  };

  let child = await launch();
  return {
    url,
    kind,
    shared: kind === 'ferretdb-postgres',
    stop: () => stopProcess(child),
    restart: async () => {
      await stopProcess(child);
      child = await launch();
    },
    createPostgresIndexes: async () => {},
  };
}

/** The PostgreSQL URL with FerretDB's pool size (FERRETDB_PG_POOL) unless it names one. */
function withPoolMaxConns(postgresUrl: string): string {
  const url = new URL(postgresUrl);
  if (!url.searchParams.has('pool_max_conns')) url.searchParams.set('pool_max_conns', String(FERRETDB_PG_POOL));
  return url.href;
}

// The first call builds FerretDB with Go (minutes: see the README's Prerequisites); its progress shows on our stderr.
async function buildFerretDb(): Promise<string> {
  const child = spawn(ENSURE_TOOL, ['ferretdb'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', resolve);
  });
  if (exitCode !== 0) throw new Error(`${NO_SERVER_HINT}; ${ENSURE_TOOL} ferretdb failed (see stderr above)`);
  return stdout.trim();
}

/**
 * FerretDB does not answer at all while its PostgreSQL is unreachable, so
 * this is checked first, to fail at once with a hint rather than after the
 * readiness timeout. The message leaves out any password in the URL.
 */
async function assertPostgresListens(postgresUrl: string): Promise<void> {
  const url = new URL(postgresUrl);
  const host = url.hostname === '' ? '127.0.0.1' : url.hostname;
  const port = Number(url.port || 5432);
  const listening = await listens(port, host);
  if (!listening) {
    url.password = '';
    throw new Error(`no PostgreSQL listens at ${url.href} for FerretDB's postgresql handler: start one, or pass another URL`);
  }
}

async function answersPing(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}
