/**
 * The load generator: a child process (see load-generator-process.ts) that
 * holds the gRPC connections and the enrolled users, and carries out the
 * orchestrator's commands one at a time over IPC.
 */
import { enrollUser, forEachParallel, retryingSetup, type BenchUser } from './bench-users.js';
import { ClientPool } from './clients.js';
import type { GeneratorCommand, GeneratorConfig, GeneratorReply, ScenarioMeasurement } from './load-generator-process.js';
import { runLoad } from './load-loop.js';
import { SPENDS_CODES } from './options.js';
import { sizeUsers } from './size-users.js';
import { StoreFloor } from './store-floor.js';
import { MfaCalls } from './mfa-calls.js';
import { registerKeyUser, type KeyUser } from './key-users.js';
import { scenarioCall, verifyNextCode, type ScenarioContext } from './scenarios.js';
import { TotpTickets } from './totp-tickets.js';

const config = JSON.parse(process.argv[2] ?? '{}') as GeneratorConfig;
const pool = new ClientPool(config.port, config.channels);
const calls = new MfaCalls(pool, config.authToken);
const users: BenchUser[] = [];
let userSerial = 0;
const freshUserId = (label: string) => `${label}-${config.runId}-${userSerial++}`;
const keyUsers: KeyUser[] = [];
const context: ScenarioContext = { calls, users, keyUsers, tickets: new TotpTickets(users), freshUserId, floor: null };
const SETUP_CONCURRENCY = config.setupConcurrency;
/** From the last size-users command: enrolls what verify_totp's window still needs right before it. */
let topUpVerify: (() => Promise<void>) | null = null;
/** Enrolls `count` more users for the scenarios, keeping the current and next periods' codes unspent. */
async function enrollMore(count: number): Promise<void> {
  users.push(...(await forEachParallel(count, SETUP_CONCURRENCY, () => retryingSetup(() => enrollUser(calls, freshUserId('user'), true)))));
}

async function handle(command: GeneratorCommand): Promise<unknown> {
  switch (command.kind) {
    case 'enroll-users':
      await enrollMore(command.count);
      return { users: users.length };
    case 'size-users': {
      const { topUp, ...sized } = await sizeUsers({ ...command, concurrency: config.concurrency, serverPid: config.serverPid, context, enrollMore });
      topUpVerify = topUp;
      return sized;
    }
    case 'open-floor':
      if (config.stores === null) throw new Error('no stores for a floor (embedded stores)');
      context.floor ??= await StoreFloor.open(config.stores, users[0]!.userId, config.runId);
      return { floor: true };
    case 'close-floor':
      await context.floor?.close();
      context.floor = null;
      return { floor: false };
    case 'remember-devices': {
      // Spends one code of each of the first users (tickets come user by user) to remember a device.
      const devices = Math.min(command.count, users.length);
      await forEachParallel(devices, SETUP_CONCURRENCY, () => retryingSetup(() => verifyNextCode(context, true)));
      return { devices: users.filter((user) => user.deviceToken !== null).length };
    }
    case 'register-keys':
      keyUsers.push(...(await forEachParallel(command.count, SETUP_CONCURRENCY, () => retryingSetup(() => registerKeyUser(calls, freshUserId('key'))))));
      return { keyUsers: keyUsers.length };
    case 'begin-pending':
      await forEachParallel(command.count, SETUP_CONCURRENCY, () => {
        const userId = freshUserId('pending');
        return retryingSetup(() => calls.beginTotpEnrollment(userId));
      });
      return { pending: command.count };
    case 'calls': {
      // One at a time, for counting the store round trips of one call; a failed call is counted too.
      const call = scenarioCall(command.scenario, context);
      let failed = 0;
      for (let i = 0; i < command.count; i += 1) await call().catch(() => (failed += 1));
      return { calls: command.count, failed };
    }
    case 'run': {
      // The round-trip sample ran since the sizing: count again, so the window starts with the codes it needs.
      if (SPENDS_CODES.has(command.scenario)) await topUpVerify?.();
      const window = await runLoad({
        concurrency: config.concurrency,
        warmupMs: command.warmupMs,
        durationMs: command.durationMs,
        serverPid: config.serverPid,
        storeProcesses: config.storeProcesses,
        call: scenarioCall(command.scenario, context),
      });
      const { p50, p90, p99 } = window.latencies.percentiles();
      const { latencies: _, ...counts } = window;
      return { ...counts, p50Ms: p50, p90Ms: p90, p99Ms: p99 } satisfies ScenarioMeasurement;
    }
  }
}

// One command at a time: a scenario must not overlap with setup or another scenario.
let queue = Promise.resolve();
process.on('message', (message: { id: number; command: GeneratorCommand }) => {
  queue = queue.then(async () => {
    let reply: GeneratorReply;
    try {
      reply = { id: message.id, ok: true, result: await handle(message.command) };
    } catch (error) {
      reply = { id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    process.send!(reply);
  });
});
/** Closes the connections (and removes the floor's documents) once, then exits. */
let exiting = false;
function exit(): void {
  if (exiting) return;
  exiting = true;
  pool.close();
  const floorClosed = context.floor?.close() ?? Promise.resolve();
  void floorClosed.catch(() => {}).finally(() => process.exit(0));
}
process.once('disconnect', exit);
process.once('SIGTERM', exit);
