import { status } from '@grpc/grpc-js';
import { processCpuUs } from './proc-stats.js';
import { snapshotStoreCpu, storeCpuBetween, type CpuSnapshot, type StoreProcesses } from './store-cpu.js';
import { LatencyRecorder } from './stats.js';

/** A call that returned OK but with an answer the scenario did not expect; counted among the errors under `label`. */
export class UnexpectedAnswer extends Error {
  constructor(readonly label: string) {
    super(`unexpected answer: ${label}`);
  }
}

/** Thrown by a call when the scenario has no work left (verify_totp out of unspent codes): the window ends early. */
export class WorkExhausted extends Error {
  override readonly name = 'WorkExhausted';
}

/** What one scenario's measured window saw. */
export interface LoadWindow {
  /** Calls completed in the whole scenario: warm-up, window and the drain after it. */
  readonly totalCalls: number;
  /** Calls completed inside the window, failed or not (their latencies are recorded). */
  readonly windowCalls: number;
  /** Of those, the ones that succeeded. */
  readonly windowSuccesses: number;
  readonly windowMs: number;
  /** The window's ends on CLOCK_MONOTONIC in µs: the clock of a V8 .cpuprofile's timestamps, so the server's profile can be cut to it. */
  readonly windowStartUs: number;
  readonly windowEndUs: number;
  readonly latencies: LatencyRecorder;
  /** Failed calls of the whole scenario by gRPC status name (or UnexpectedAnswer label). */
  readonly errors: Record<string, number>;
  /** CPU time the server process used during the window. */
  readonly serverCpuUs: number;
  /** CPU time each store's processes used during the window (redis, ferretdb, postgres), where known. */
  readonly storeCpuUs: Record<string, number>;
  /** CPU time this load generator used during the window (near 1 s per second means it is the bottleneck). */
  readonly clientCpuUs: number;
  /** Why the window ended before its time, if it did. */
  readonly cutShort: string | null;
}

/**
 * Keeps `concurrency` calls in flight (closed loop: each completion starts the
 * next call) for the warm-up and then the measured window. Calls completed
 * inside the window count towards throughput and latency; the server's CPU
 * time is read from /proc at the window's two ends. Anything but a gRPC error
 * or an UnexpectedAnswer is a bug of the benchmark and aborts it.
 */
export async function runLoad(options: {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly serverPid: number;
  readonly storeProcesses?: StoreProcesses;
  readonly call: () => Promise<unknown>;
}): Promise<LoadWindow> {
  const stores = options.storeProcesses ?? {};
  let storesAtStart: CpuSnapshot = {};
  let storeCpuUs: Record<string, number> = {};
  const latencies = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let totalCalls = 0;
  let windowCalls = 0;
  let windowSuccesses = 0;
  let start = { at: 0, monotonicUs: 0, server: 0, client: process.cpuUsage() };
  let end = { at: 0, monotonicUs: 0, server: 0, clientUs: 0 };
  let endTimer: NodeJS.Timeout | undefined;
  let cutShort: string | null = null;
  let windowDue = false;
  const endWindow = () => {
    clearTimeout(endTimer);
    const client = process.cpuUsage(start.client);
    end = { at: performance.now(), monotonicUs: monotonicUs(), server: processCpuUs(options.serverPid), clientUs: client.user + client.system };
    storeCpuUs = storeCpuBetween(storesAtStart, snapshotStoreCpu(stores));
    phase = 'stop';
  };
  const startWindow = () => {
    storesAtStart = snapshotStoreCpu(stores);
    start = { at: performance.now(), monotonicUs: monotonicUs(), server: processCpuUs(options.serverPid), client: process.cpuUsage() };
    phase = 'measure';
    // A window in which no call completed measures nothing (a slow scenario, such as enroll on a busy
    // machine, in a short window): it then ends at its first completed call, and rps counts the time it took.
    endTimer = setTimeout(() => (windowCalls > 0 ? endWindow() : (windowDue = true)), options.durationMs);
  };
  // No warm-up: the window opens before the first call, so a call that finds no work ends it rather than a warm-up.
  if (options.warmupMs === 0) startWindow();
  const startTimer = options.warmupMs === 0 ? undefined : setTimeout(startWindow, options.warmupMs);

  const worker = async () => {
    while (phase !== 'stop') {
      const started = performance.now();
      let ok = true;
      try {
        await options.call();
      } catch (error) {
        ok = false;
        if (error instanceof WorkExhausted) {
          if (phase === 'warmup') throw new Error(`out of work during the warm-up: ${error.message}`);
          if (phase === 'measure') {
            cutShort = error.message;
            endWindow();
          }
          break;
        }
        const label = errorLabel(error);
        if (label === null) throw error;
        errors[label] = (errors[label] ?? 0) + 1;
      }
      totalCalls += 1;
      if (phase === 'measure') {
        windowCalls += 1;
        if (ok) windowSuccesses += 1;
        latencies.record(performance.now() - started);
        if (windowDue) endWindow();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } catch (error) {
    phase = 'stop';
    throw error;
  } finally {
    clearTimeout(startTimer);
    clearTimeout(endTimer);
  }
  return {
    totalCalls,
    windowCalls,
    windowSuccesses,
    windowMs: end.at - start.at,
    windowStartUs: start.monotonicUs,
    windowEndUs: end.monotonicUs,
    latencies,
    errors,
    serverCpuUs: end.server - start.server,
    storeCpuUs,
    clientCpuUs: end.clientUs,
    cutShort,
  };
}

/** process.hrtime is CLOCK_MONOTONIC on Linux, as is V8's profiler clock: comparable across processes. */
function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function errorLabel(error: unknown): string | null {
  if (error instanceof UnexpectedAnswer) return error.label;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && status[code] !== undefined) return status[code]!;
  return null;
}
