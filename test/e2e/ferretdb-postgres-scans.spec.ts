import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { listens } from '../../dev/child-process.js';
import { randomUUID } from 'node:crypto';
import type { SecurityEventRecord } from '../../src/domain/security-events.js';
import { FACTORS_COLLECTION } from '../../src/stores/mongo/mongo-factor-store.js';
import { POSITIONS_COLLECTION, SECURITY_EVENTS_COLLECTION } from '../../src/stores/mongo/mongo-security-event-log.js';
import { toOutboxEntry } from '../../src/stores/mongo/outbox-entry.js';
import { PENDING_OUTBOXES_COLLECTION, PendingOutboxes } from '../../src/stores/mongo/pending-outboxes.js';
import { createFerretDbPostgresIndexes } from '../../dev/ferretdb-postgres-indexes.js';
import { codeAt, enrollUser, useRealStores, useService, type EnrolledUser } from '../support/e2e-fixture.js';

/**
 * Issue 26: on FerretDB on PostgreSQL, no hot path reads the whole collection.
 * FerretDB's own `_id` index cannot serve the query it sends for a call by
 * `_id`, so without scripts/ferretdb-postgres-indexes.sh each login read every
 * row; and the relay's sweep, which FerretDB cannot push down, read them all
 * every MFA_EVENT_SWEEP_SECONDS. This counts the rows PostgreSQL read by
 * sequential scan (pg_stat_user_tables.seq_tup_read) around each kind of call,
 * on a private FerretDB with a database of its own, created and dropped here.
 */
const ADMIN_URL = process.env['MFA_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Documents besides the callers' (copies of an enrolled user's, as the service writes them). */
const SEEDED = 3_000;
const CALLS = 100;
/**
 * PostgreSQL 15 flushes a backend's table statistics when it goes idle, but at
 * most once a second: a backend that flushed less than a second ago waits for
 * its idle timeout (PGSTAT_IDLE_INTERVAL, 10 s). After this long without
 * calls, every count of the calls before is visible.
 */
const STATS_FLUSH_MS = 11_500;
/**
 * Tables whose size follows the work in flight, not the users: the marks of
 * the outboxes that had events in the last minute, and the one row of the
 * newest event position. PostgreSQL's planner reads a table that small whole
 * by choice; what matters is that it stays that small.
 */
const IN_FLIGHT_TABLES = [PENDING_OUTBOXES_COLLECTION, POSITIONS_COLLECTION];

const run = promisify(execFile);
async function psql(url: string, sql: string): Promise<string> {
  const { stdout } = await run('psql', [url, '--no-psqlrc', '--quiet', '--tuples-only', '--no-align', '--set=ON_ERROR_STOP=1', '-c', sql]);
  return stdout.trim();
}

describe('FerretDB on PostgreSQL: rows read by sequential scan on the hot paths (issue 26)', function () {
  this.timeout(240_000);
  const database = `mfa_scans_${process.pid}_${Date.now().toString(36)}`;
  const postgresUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).href;

  before(async function () {
    const url = new URL(ADMIN_URL);
    if (!(await listens(Number(url.port || 5432), url.hostname))) {
      throw new Error(`no PostgreSQL at ${url.host}: start one, or point MFA_TEST_POSTGRES_URL at a database this test may create others from`);
    }
    await psql(ADMIN_URL, `CREATE DATABASE ${database}`);
    // What scripts/ferretdb-postgres-indexes.sh sets, before FerretDB's first connection: no generic plans.
    await psql(ADMIN_URL, `ALTER DATABASE ${database} SET plan_cache_mode = force_custom_plan`);
  });
  const stores = useRealStores({ private: true, postgresUrl });
  // A sweep every second: each measured window holds about a dozen relay passes.
  const service = useService(stores, { MFA_EVENT_SWEEP_SECONDS: '1' });
  after(async function () {
    this.timeout(60_000);
    await psql(ADMIN_URL, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  let users: EnrolledUser[];
  let collectionSize: number;

  before(async function () {
    const { client, clock } = service.current;
    users = [];
    for (let i = 0; i < CALLS; i += 1) users.push(await enrollUser(client, clock));
    const factors = stores.mongo.db(stores.mongoDb).collection<{ _id: string }>(FACTORS_COLLECTION);
    const { outbox: _events, ...template } = (await factors.findOne({ _id: users[0]!.userId })) as Record<string, unknown>;
    for (let start = 0; start < SEEDED; start += 500) {
      await factors.insertMany(Array.from({ length: 500 }, (_, i) => ({ ...template, _id: `seeded-${start + i}` })));
    }
    collectionSize = await factors.countDocuments();
    await stores.mongoServer.createPostgresIndexes(stores.mongoDb);
    // Statistics for the planner, as autovacuum would keep them (it may be off on a test machine).
    await psql(postgresUrl, 'VACUUM ANALYZE');
  });

  interface ScanCounts {
    /** Rows read by sequential scan from the tables that grow with the users or the events. */
    readonly rows: number;
    /** Rows read, and scans, of IN_FLIGHT_TABLES. */
    readonly inFlightRows: number;
    readonly inFlightScans: number;
  }

  /** Sequential scans of the service's tables, summed, once every backend has flushed its counts. */
  async function scanCounts(): Promise<ScanCounts> {
    await new Promise((resolve) => setTimeout(resolve, STATS_FLUSH_MS));
    // FerretDB names a collection's table `<collection>_<hash>`.
    const inFlight = `(${IN_FLIGHT_TABLES.map((name) => `relname LIKE '${name}\\_%'`).join(' OR ')})`;
    const rows = await psql(
      postgresUrl,
      `SELECT pg_stat_clear_snapshot(); SELECT coalesce(sum(seq_tup_read) FILTER (WHERE NOT ${inFlight}), 0), coalesce(sum(seq_tup_read) FILTER (WHERE ${inFlight}), 0), coalesce(sum(seq_scan) FILTER (WHERE ${inFlight}), 0) FROM pg_stat_user_tables WHERE schemaname = '${stores.mongoDb}'`,
    );
    const [read, inFlightRows, inFlightScans] = rows.split('\n').at(-1)!.split('|').map(Number);
    return { rows: read!, inFlightRows: inFlightRows!, inFlightScans: inFlightScans! };
  }

  /** The counts at the end of the last window: each window starts there (its test's few setup calls read by _id too). */
  let counted: ScanCounts | undefined;

  /**
   * Rows read during `calls` (and the relay passes beside them), which must stay far below CALLS full
   * reads; and no scan of an in-flight table read more rows than the users who had events (at most
   * one mark each), whatever the collection's size.
   */
  async function expectNoScan(calls: () => Promise<void>): Promise<void> {
    const before = counted ?? (await scanCounts());
    await calls();
    counted = await scanCounts();
    const read = counted.rows - before.rows;
    expect(collectionSize).to.be.greaterThan(SEEDED);
    // A call that scanned read collectionSize rows (at least): CALLS of them read CALLS times that.
    expect(read, `${read} rows read by sequential scan, ${collectionSize} documents`).to.be.lessThan(collectionSize);
    const inFlightRows = counted.inFlightRows - before.inFlightRows;
    const inFlightScans = counted.inFlightScans - before.inFlightScans;
    expect(inFlightRows, `${inFlightRows} rows in ${inFlightScans} scans of ${IN_FLIGHT_TABLES.join(', ')}`).to.be.at.most(inFlightScans * (CALLS + 1));
  }

  it(`${CALLS} logins by code (VerifyTotp) and ${CALLS} by recovery code (VerifyRecoveryCode) read no collection by sequential scan`, async () => {
    const { client, clock } = service.current;
    clock.advance(30_000);
    await expectNoScan(async () => {
      for (const user of users) {
        expect((await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock) })).verifiedAt).to.be.instanceOf(Date);
        expect((await client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0]! })).recoveryCodesRemaining).to.equal(9);
      }
    });
  });

  it(`${CALLS} device and session checks read no collection by sequential scan`, async () => {
    const { client, clock } = service.current;
    clock.advance(30_000);
    const remembered = users.slice(0, 10);
    const tokens: string[] = [];
    for (const user of remembered) tokens.push((await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock), rememberDevice: true, deviceLabel: 'laptop' })).deviceToken);
    await expectNoScan(async () => {
      for (let i = 0; i < CALLS; i += 1) {
        const user = remembered[i % remembered.length]!;
        expect((await client.checkRememberedDevice({ userId: user.userId, deviceToken: tokens[i % tokens.length]! })).remembered).to.equal(true);
        expect((await client.checkSession({ userId: users[i]!.userId, sessionIssuedAt: clock.now() })).revoked).to.equal(false);
      }
    });
  });

  it('relay passes (a sweep a second) read no collection by sequential scan, and still relay what a crash left', async () => {
    const db = stores.mongo.db(stores.mongoDb);
    const userId = 'seeded-7';
    const event: SecurityEventRecord = { eventId: randomUUID(), userId, type: 'MFA_RESET', occurredAt: new Date(service.current.clock.now().getTime() - 5_000), caller: '', requestId: 'crashed' };
    // What an instance that died between its write and its relay leaves: the mark, then the event in the user's outbox.
    await new PendingOutboxes(db).mark(userId, [event]);
    await db.collection<{ _id: string }>(FACTORS_COLLECTION).updateOne({ _id: userId }, { $push: { outbox: toOutboxEntry(event) } as never });
    // No calls: the window holds only the relay's sweeps (a dozen of them).
    await expectNoScan(async () => {});
    expect(await db.collection<{ _id: string }>(SECURITY_EVENTS_COLLECTION).countDocuments({ _id: event.eventId })).to.equal(1);
    expect((await db.collection<{ _id: string; outbox?: unknown[] }>(FACTORS_COLLECTION).findOne({ _id: userId }))?.outbox).to.deep.equal([]);
  });

  it('has scripts/ferretdb-postgres-indexes.sh turn off generic plans on the database it runs on, when run by its owner', async () => {
    const scratch = `${database}_plain`;
    const role = `${database}_role`;
    const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${scratch}` }).href;
    await psql(ADMIN_URL, `CREATE DATABASE ${scratch}`);
    await psql(ADMIN_URL, `CREATE ROLE ${role} LOGIN`);
    try {
      const settings = () => psql(ADMIN_URL, `SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = '${scratch}'`);
      expect(await settings()).to.equal('');
      // Another role may not: the script warns, and exits 0 (it would still have made the indexes).
      await createFerretDbPostgresIndexes(Object.assign(new URL(url), { username: role }).href);
      expect(await settings()).to.equal('');
      await createFerretDbPostgresIndexes(url);
      await createFerretDbPostgresIndexes(url);
      expect(await settings()).to.equal('plan_cache_mode=force_custom_plan');
      expect(await psql(url, 'SHOW plan_cache_mode')).to.equal('force_custom_plan');
    } finally {
      await psql(ADMIN_URL, `DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
      await psql(ADMIN_URL, `DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('has npm run bench:event-log measure the event log\'s remaining scans (docs/benchmark.md), and clean up after itself', async function () {
    this.timeout(120_000);
    const benchDatabases = () => psql(ADMIN_URL, "SELECT count(*) FROM pg_database WHERE datname LIKE 'bench\\_event\\_log\\_%'");
    const before = await benchDatabases();
    const { stdout } = await run('npm', ['run', '--silent', 'bench:event-log', '--', '--events', '300', '--postgres-url', ADMIN_URL], { timeout: 110_000 });
    for (const read of ['head()', 'read() of the newest 100', 'list() of one user', 'removeBefore()']) {
      expect(stdout).to.match(new RegExp(`^\\| 300 \\| ${read.replace(/[()]/g, '\\$&')}[^|]* \\| \\d+\\.\\d \\| \\d+\\.\\d \\|$`, 'm'));
    }
    expect(await benchDatabases()).to.equal(before);
  });
});
