import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { parseArgs, promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { createFerretDbPostgresIndexes } from '../dev/ferretdb-postgres-indexes.js';
import { startMongoServer } from '../dev/mongo-server.js';
import type { SecurityEventRecord } from '../src/domain/security-events.js';
import { MongoSecurityEventLog } from '../src/stores/mongo/mongo-security-event-log.js';

/**
 * What the event log's reads that FerretDB 1.24 cannot push down (a range or
 * a sort on `position`, `occurredAt` or `userId`) cost on FerretDB on
 * PostgreSQL, by the number of events kept (issue 26: "document any scan that
 * remains, with its cost per 10,000 documents"). None is on a login's path:
 * head() runs after a position collision and in the retention sweep, read()
 * per stream after each relay notice, list() per ListAuditEvents.
 *
 *   npm run bench:event-log -- [--events 10000,50000] [--postgres-url URL]
 *
 * Each size: events appended through the service's own log, the project's
 * index script, VACUUM ANALYZE, then each read 7 times; the median is printed.
 */
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000,50000' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const sizes = values.events.split(',').map(Number);
const adminUrl = values['postgres-url'];
const psql = (url: string, sql: string) => promisify(execFile)('psql', [url, '--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '-c', sql], { timeout: 600_000 });

const database = `bench_event_log_${process.pid}`;
const postgresUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).href;
await psql(adminUrl, `CREATE DATABASE ${database}`);
let mongo: Awaited<ReturnType<typeof startMongoServer>> | undefined;
let client: MongoClient | undefined;
try {
  await psql(adminUrl, `ALTER DATABASE ${database} SET plan_cache_mode = force_custom_plan`);
  mongo = await startMongoServer({ postgresUrl });
  client = await MongoClient.connect(mongo.url);
  const db = client.db('bench');
  const log = new MongoSecurityEventLog(db, { retentionSeconds: 90 * 86_400, ttlIndexes: false });
  await log.ensureIndexes();
  const rows: string[] = [];
  let kept = 0;
  // One millisecond apart from `start` on, for every size: removeBefore(start - 1) finds none due.
  const start = Date.now() - 86_400_000;
  for (const size of sizes) {
    while (kept < size) {
      const events: SecurityEventRecord[] = Array.from({ length: Math.min(500, size - kept) }, (_, i) => ({
        eventId: randomUUID(), userId: `user-${(kept + i) % 5000}`, type: 'RECOVERY_CODE_USED', occurredAt: new Date(start + kept + i), caller: 'bench', requestId: 'r',
      }));
      await log.append(events);
      kept += events.length;
    }
    const counted = await db.collection('mfa_security_events').countDocuments();
    if (counted !== size) throw new Error(`the log holds ${counted} events, not ${size}`);
    await createFerretDbPostgresIndexes(postgresUrl, 'bench');
    await psql(postgresUrl, 'VACUUM ANALYZE');
    const timed = async (name: string, call: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let i = 0; i < 7; i += 1) {
        const began = process.hrtime.bigint();
        await call();
        ms.push(Number(process.hrtime.bigint() - began) / 1e6);
      }
      const median = ms.sort((a, b) => a - b)[3]!;
      rows.push(`| ${size.toLocaleString('en')} | ${name} | ${median.toFixed(1)} | ${((median * 10_000) / size).toFixed(1)} |`);
    };
    const head = await log.head();
    await timed('head() (after a position collision; the retention sweep)', () => log.head());
    await timed('read() of the newest 100 (a stream, after a relay notice)', () => log.read(head - 100, head, 100, null));
    await timed('list() of one user (ListAuditEvents)', () => log.list('user-7', 20, null));
    // Nothing is old enough (the oldest is at `start`): what the sweep costs when it removes nothing, as it mostly does.
    await timed('removeBefore() (the retention sweep, nothing due)', () => log.removeBefore(new Date(start - 1)));
  }
  process.stdout.write(`| events kept | read | ms per call (median of 7) | ms per 10,000 events |\n|---:|---|---:|---:|\n${rows.join('\n')}\n`);
} finally {
  await client?.close();
  await mongo?.stop();
  await psql(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
}
