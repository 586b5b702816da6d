import { status } from '@grpc/grpc-js';
import { generateTotp, timeStepAt } from '../src/domain/totp.js';
import type { MfaCalls } from './mfa-calls.js';

export const PERIOD_MS = 30_000;
/**
 * How long a call may take to reach the server; a code is only used where it
 * stays valid that long. Generous: a saturated FerretDB makes calls queue for seconds.
 */
export const IN_FLIGHT_MARGIN_MS = 10_000;

/** An enrolled user of the benchmark and the TOTP state the load generator tracks for it. */
export interface BenchUser {
  readonly userId: string;
  readonly secret: string;
  /** The highest time step queued or handed out for this user (the confirming one to begin with): later codes only. */
  scheduledStep: number;
  /**
   * The highest time step handed to a caller for this user (the confirming one
   * to begin with), or a later one the server may spend with that step's code
   * (markSpent).
   */
  spentStep: number;
  /** Codes of the steps around spentStep, computed once (markSpent looks two steps ahead). */
  readonly codes: Map<number, string>;
  /**
   * Whether the user's next plain login takes its Redis copy (LoginCopy), as
   * the window's do: its last successful VerifyTotp was a plain one. A login
   * that remembers a device takes the copy before its write moves the
   * record's version, so the next login misses the copy once.
   */
  copyCurrent: boolean;
  /** The user's VerifyTotp in flight, if any: the next one waits for it, so steps arrive in order. */
  inFlight: Promise<unknown> | null;
  deviceToken: string | null;
}

/** `user`'s code of `step`, as its app shows it during that period. */
export function codeOf(user: BenchUser, step: number): string {
  let code = user.codes.get(step);
  if (code === undefined) {
    code = generateTotp(user.secret, new Date(step * PERIOD_MS));
    user.codes.set(step, code);
  }
  return code;
}

/**
 * Records `step`'s code as handed out for `user`, and the later steps the
 * server may spend with it: it spends the newest step of its window that
 * shows the code (matchTotp: two steps share a code about once in a million
 * pairs), and a call for `step` arrives while the server is at most one step
 * past it, so its window ends at `step + 2` at the latest.
 */
export function markSpent(user: BenchUser, step: number): void {
  const code = codeOf(user, step);
  let spent = step;
  for (const later of [step + 1, step + 2]) if (codeOf(user, later) === code) spent = later;
  user.spentStep = spent;
  for (const known of user.codes.keys()) if (known < step) user.codes.delete(known);
}

/**
 * Begins and confirms an enrollment for a new user, with the code the app
 * shows now; or, with `spareCodes`, the previous period's while that is still
 * safely accepted (one step of drift, RFC 6238 §5.2), so that the current and
 * next periods stay free for VerifyTotp.
 */
export async function enrollUser(calls: MfaCalls, userId: string, spareCodes = false): Promise<BenchUser> {
  const begun = await calls.beginTotpEnrollment(userId);
  const now = Date.now();
  const previousIsSafe = spareCodes && PERIOD_MS - (now % PERIOD_MS) > IN_FLIGHT_MARGIN_MS;
  const step = timeStepAt(new Date(now)) - (previousIsSafe ? 1 : 0);
  const user: BenchUser = { userId, secret: begun.secret, scheduledStep: step, spentStep: step, codes: new Map(), copyCurrent: false, inFlight: null, deviceToken: null };
  await calls.confirmTotpEnrollment(userId, begun.enrollmentId, codeOf(user, step));
  markSpent(user, step);
  return user;
}

/**
 * Setup work (not measured) keeps this few calls in flight on FerretDB on
 * SQLite, which applies writes one at a time (more in flight only queue), and
 * SETUP_CONCURRENCY elsewhere.
 */
export const SQLITE_SETUP_CONCURRENCY = 2;
export const SETUP_CONCURRENCY = 8;

/**
 * Retries setup work that failed UNAVAILABLE or DEADLINE_EXCEEDED (a store
 * slower than the service's store timeout). Enrollments retry under a fresh
 * user id, as a half-done confirm may have enabled the first one.
 */
export async function retryingSetup<T>(attempt: () => Promise<T>, attempts = 5): Promise<T> {
  for (let n = 0; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (n + 1 >= attempts || (code !== status.UNAVAILABLE && code !== status.DEADLINE_EXCEEDED)) throw error;
    }
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time; on the first failure, starts no more and rejects with it. */
export async function forEachParallel<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        results[index] = await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
