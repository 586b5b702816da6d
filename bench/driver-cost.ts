/**
 * `npm run bench:driver`: the `mongodb` driver's own CPU per call, against
 * bench/op-msg-responder.ts (its own process, answering at once), for the
 * calls the service makes and the options that might change their cost.
 * Each line is one client, 64 calls in flight (and one at a time), as the
 * service's pool would carry them; CPU is this process's (user + system) over
 * the calls, divided by their number. Ratios between lines of one run are
 * what to read: the machine's load moves the absolute figures.
 *
 *   npm run bench:driver -- [--calls N] [--rounds N] [--profile DIR]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BSON, MongoClient, type Collection, type Db, type Document, type MongoClientOptions } from 'mongodb';
import { mongoClientOptions } from '../src/stores/mongo/mongo-client.js';
import { forEachParallel } from './bench-users.js';
import { driverAreaOf } from './driver-areas.js';
import { summariseProfile, type ProfileSummary } from './profile-summary.js';

const HERE = dirname(fileURLToPath(import.meta.url));

/** A user's record as MongoFactorStore stores it: one authenticator, ten recovery code hashes, one device. */
function userDocument(id: string): Document {
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    _id: id,
    enabled: true,
    enabledAt: at,
    authenticators: {
      aut_0123456789abcdef: { label: 'Authenticator app', sealedSecret: `v1.k.${'a'.repeat(16)}.${'b'.repeat(59)}`, lastTimeStep: 59_000_000, createdAt: at, lastUsedAt: at },
    },
    recoveryCodes: { keyId: 'k', hashes: Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(22, 'h')) },
    devices: { dev_0123456789abcdef: { tokenHash: 'x'.repeat(43), label: 'bench', createdAt: at, lastUsedAt: at, expiresAt: new Date('2026-02-01T00:00:00Z') } },
    sessionsRevokedAt: at,
    version: 7,
  };
}

interface Case {
  readonly name: string;
  /** Its CPU by area (driverAreaOf) in the report's second table, under --profile. */
  readonly areas?: boolean;
  /** Responder without logicalSessionTimeoutMinutes: the driver sends no implicit session. */
  readonly noSessions?: boolean;
  readonly client?: MongoClientOptions;
  readonly call: (client: MongoClient, n: number) => Promise<unknown>;
}

interface UserDocument extends Document { _id: string }
// One Collection per client, made once, as the service's store holds one (client.db() alone costs ~40 µs a call).
const collections = new WeakMap<MongoClient, Collection<UserDocument>>();
const dbs = new WeakMap<MongoClient, Db>();
const dbOf = (client: MongoClient) => {
  let found = dbs.get(client);
  if (found === undefined) dbs.set(client, (found = client.db('bench')));
  return found;
};
const collection = (client: MongoClient) => {
  let found = collections.get(client);
  if (found === undefined) collections.set(client, (found = client.db('bench').collection<UserDocument>('mfa_factors')));
  return found;
};
const byId = (n: number) => ({ _id: `user-${n % 1000}` });
const spend = (n: number) => ({ ...byId(n), enabled: true, 'authenticators.aut_0123456789abcdef.lastTimeStep': { $lt: n } });
const spendUpdate = (n: number) => ({ $set: { 'authenticators.aut_0123456789abcdef.lastTimeStep': n, 'authenticators.aut_0123456789abcdef.lastUsedAt': new Date() }, $inc: { version: 1 } });
const CHECK_FIELDS = { enabled: 1, authenticators: 1, devices: 1, version: 1 };

const CASES: Case[] = [
  { name: 'findOne by _id (as the service)', areas: true, call: (c, n) => collection(c).findOne(byId(n)) },
  { name: 'findOne, projection (enabled, authenticators, devices, version)', call: (c, n) => collection(c).findOne(byId(n), { projection: CHECK_FIELDS }) },
  { name: 'findOne, no implicit session (server without sessions)', noSessions: true, call: (c, n) => collection(c).findOne(byId(n)) },
  { name: 'findOne, enableUtf8Validation: false', client: { enableUtf8Validation: false }, call: (c, n) => collection(c).findOne(byId(n)) },
  { name: 'findOne, promoteValues: false', call: (c, n) => collection(c).findOne(byId(n), { promoteValues: false }) },
  { name: 'findOne, raw BSON', areas: true, call: (c, n) => collection(c).findOne(byId(n), { raw: true }) },
  { name: 'findOne, monitorCommands: true', client: { monitorCommands: true }, call: (c, n) => collection(c).findOne(byId(n)) },
  { name: 'findOne, zlib compression', client: { compressors: ['zlib'] }, call: (c, n) => collection(c).findOne(byId(n)) },
  { name: 'db.command find (no cursor object)', call: (c, n) => dbOf(c).command({ find: 'mfa_factors', filter: byId(n), limit: 1, singleBatch: true }) },
  { name: 'updateOne conditional (as the floor)', areas: true, call: (c, n) => collection(c).updateOne(spend(n), spendUpdate(n)) },
  { name: 'findOneAndUpdate, returnDocument after (as spendProof)', call: (c, n) => collection(c).findOneAndUpdate(spend(n), spendUpdate(n), { returnDocument: 'after' }) },
  { name: 'findOneAndUpdate, enableUtf8Validation: false', client: { enableUtf8Validation: false }, call: (c, n) => collection(c).findOneAndUpdate(spend(n), spendUpdate(n), { returnDocument: 'after' }) },
  { name: 'updateOne, no implicit session', noSessions: true, call: (c, n) => collection(c).updateOne(spend(n), spendUpdate(n)) },
  { name: 'updateOne, retryWrites: false', client: { retryWrites: false }, call: (c, n) => collection(c).updateOne(spend(n), spendUpdate(n)) },
];

async function startResponder(noSessions: boolean): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'op-msg-responder.ts'), JSON.stringify({ sessions: !noSessions, document: BSON.EJSON.serialize(userDocument('user-0')) })], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `mongodb://127.0.0.1:${chunk.toString().trim()}/`, child };
}

/** CPU µs per call over `calls` calls with `concurrency` in flight, after a warm-up of a tenth as many. */
async function measure(client: MongoClient, call: Case['call'], calls: number, concurrency: number): Promise<{ cpuUs: number; wallUs: number }> {
  await forEachParallel(Math.ceil(calls / 10), concurrency, (n) => call(client, n));
  const cpu = process.cpuUsage();
  const start = performance.now();
  await forEachParallel(calls, concurrency, (n) => call(client, n));
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / calls, wallUs: ((performance.now() - start) * 1000) / calls };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { calls: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' }, profile: { type: 'string' } } });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const profiler = values.profile === undefined ? null : new Session();
  // Cases interleave round by round, so a change in the machine's load spreads over all of them; the first round's
  // first case also warms the JIT up for everyone.
  const results = new Map<string, Array<{ parallel: number; sequential: number; rps: number }>>();
  const areas = new Map<string, ProfileSummary>();
  // A profile covers measure()'s warm-up calls too.
  const profiledCalls = calls + Math.ceil(calls / 10);
  for (let round = 0; round < rounds; round += 1) {
    for (const test of CASES) {
      const responder = await startResponder(test.noSessions === true);
      // The service's client (its durability and timeouts), with this case's options on top.
      const client = new MongoClient(responder.url, { ...mongoClientOptions(5000), ...test.client });
      try {
        await client.connect();
        const profiling = profiler !== null && round === rounds - 1;
        if (profiling) {
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.start');
        }
        const parallel = await measure(client, test.call, calls, 64);
        if (profiling) {
          const { profile } = await profiler.post('Profiler.stop');
          mkdirSync(values.profile!, { recursive: true });
          const path = join(values.profile!, `${test.name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
          writeFileSync(path, JSON.stringify(profile));
          profiler.disconnect();
          if (test.areas === true) {
            const whole = { name: test.name, startUs: -Infinity, endUs: Infinity, calls: profiledCalls };
            areas.set(test.name, summariseProfile(path, [whole], 30, driverAreaOf)[0]!);
          }
        }
        const sequential = await measure(client, test.call, Math.ceil(calls / 10), 1);
        const list = results.get(test.name) ?? [];
        list.push({ parallel: parallel.cpuUs, sequential: sequential.cpuUs, rps: 1e6 / parallel.wallUs });
        results.set(test.name, list);
      } finally {
        await client.close();
        responder.child.kill('SIGTERM');
      }
    }
  }
  const range = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return sorted.length === 1 ? median.toFixed(0) : `${median.toFixed(0)} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})`;
  };
  const rows = [
    `| call (median of ${rounds} rounds, range) | CPU µs/call, 64 in flight | CPU µs/call, 1 at a time | calls/s, 64 in flight |`,
    '|---|---:|---:|---:|',
    ...[...results].map(([name, list]) => `| ${name} | ${range(list.map((r) => r.parallel))} | ${range(list.map((r) => r.sequential))} | ${range(list.map((r) => r.rps))} |`),
  ];
  process.stdout.write(`${rows.join('\n')}\n`);
  if (areas.size > 0) process.stdout.write(`\n${areaTable(areas, profiledCalls)}\n`);
}

/** CPU µs per call by area (rows) for each profiled case (columns): where a call's time goes. */
function areaTable(areas: Map<string, ProfileSummary>, profiledCalls: number): string {
  const names = [...areas.keys()];
  const perCall = (summary: ProfileSummary, area: string) => summary.packages.find((row) => row.name === area)?.usPerCall ?? 0;
  const all = [...new Set([...areas.values()].flatMap((summary) => summary.packages.map((row) => row.name)))];
  all.sort((a, b) => perCall(areas.get(names[0]!)!, b) - perCall(areas.get(names[0]!)!, a));
  return [
    `| sampled CPU µs/call, 64 in flight (last round) | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---:|').join('')}`,
    ...all.map((area) => `| ${area} | ${names.map((name) => perCall(areas.get(name)!, area)).join(' | ')} |`),
    `| **busy, all areas** | ${names.map((name) => Math.round((1000 * areas.get(name)!.busyMs) / profiledCalls)).join(' | ')} |`,
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:driver: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
