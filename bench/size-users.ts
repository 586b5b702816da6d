import { setTimeout as sleep } from 'node:timers/promises';
import { timeStepAt } from '../src/domain/totp.js';
import { forEachParallel, IN_FLIGHT_MARGIN_MS, PERIOD_MS, retryingSetup, type BenchUser } from './bench-users.js';
import { runLoad } from './load-loop.js';
import { ROUND_TRIP_SAMPLE } from './measure-scenario.js';
import { scenarioCall, verifyTicket, type ScenarioContext } from './scenarios.js';
import { usableSteps } from './totp-tickets.js';
import type { ScenarioName } from './options.js';

/** How long a probe of verify_totp's rate runs. */
const PROBE_MS = 1_000;
/**
 * Probes at least and at most. The first runs cold (the copy's code path is
 * not compiled yet: on the embedded stores it measured 0.6–1× the window's
 * rate); one that runs out of codes is probed again, with room made for it.
 */
const MIN_PROBES = 2;
const MAX_PROBES = 4;
/** Codes per call in flight that the first probe starts with, at least. */
const PROBE_START_CALLS = 8;
/** The window's end may come this much later than warm-up + duration (the calls in flight then drain). */
const DRAIN_MS = 1_000;
/** The load may start up to this long after a count (IPC, a probe's start): every start in between is checked. */
const START_DELAY_MS = 3_000;
/** How long enrolling may take before the sizing gives up (FerretDB on SQLite enrolls a few users a second). */
const ENROLL_LIMIT_MS = 300_000;

export interface SizingOptions {
  /**
   * Headroom over the probed rate (--sizing-headroom, 1.5 by default): the
   * window may run faster than the probes (warm caches, a quieter machine);
   * on FerretDB/PostgreSQL windows ran at 1.17–1.30× them.
   */
  readonly headroom: number;
  /** The scenario whose window is sized, and probed: verify_totp, or verify_totp_assert. */
  readonly scenario: ScenarioName;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly serverPid: number;
  readonly context: ScenarioContext;
  readonly enrollMore: (count: number) => Promise<void>;
}

export interface Sizing {
  readonly probedRps: number;
  readonly needed: number;
  readonly added: number;
  readonly users: number;
  /** Counts again right before the window (the round-trip sample ran in between) and enrolls what is missing. */
  readonly topUp: () => Promise<void>;
}

/**
 * Sizes the users to verify_totp's window before it runs. First every user
 * whose copy is not current logs in once, with a code of its own (that takes
 * the user's Redis copy, LoginCopy, so the window measures the steady state:
 * logins of users who logged in before, within MFA_TOTP_COPY_SECONDS). Then
 * short probes of the scenario itself measure its rate on this machine and
 * these stores, on such logins (users are enrolled first where the probes
 * need them). Then users are enrolled, each logging in once, until the
 * users' unspent codes cover the warm-up and window at that rate with
 * headroom (each user yields the codes of the current and next periods, then
 * one more per 30 s; a code is never used twice). So the window does not run
 * out of codes, and a slow store does not pay for users it cannot use. (A
 * probe of first logins, which read MongoDB, ran at a third of the window's
 * rate on FerretDB, and a window ran out.)
 */
export async function sizeUsers(options: SizingOptions): Promise<Sizing> {
  const { context, concurrency } = options;
  const before = context.users.length;
  await logInOnce(context, context.users, concurrency);
  // Room for the first probe's start: a probe that runs out at once measures nothing.
  await enrollUntil(options, PROBE_MS, () => PROBE_START_CALLS * concurrency);
  let rps = 1;
  for (let probes = 1; ; probes += 1) {
    const probe = await runLoad({ concurrency, warmupMs: 0, durationMs: PROBE_MS, serverPid: options.serverPid, call: scenarioCall(options.scenario, context) });
    rps = Math.max(rps, probe.windowSuccesses / Math.max(0.001, probe.windowMs / 1000));
    if ((probes >= MIN_PROBES && probe.cutShort === null) || probes === MAX_PROBES) break;
    // Room for the next probe, at this one's rate with headroom.
    const probeRps = options.headroom * rps;
    await enrollUntil(options, PROBE_MS, (elapsedMs) => concurrency + (probeRps * elapsedMs) / 1000);
  }
  const measuredMs = options.warmupMs + options.durationMs;
  // The round-trip sample's calls before the warm-up, the calls in flight at the start, and the warm-up's and window's at the rate with headroom.
  const callsBy = (elapsedMs: number) => ROUND_TRIP_SAMPLE + concurrency + (rps * options.headroom * Math.min(elapsedMs, measuredMs)) / 1000;
  const topUp = () => enrollUntil(options, measuredMs + DRAIN_MS, callsBy);
  await topUp();
  return { probedRps: Math.round(rps), needed: Math.ceil(callsBy(measuredMs)), added: context.users.length - before, users: context.users.length, topUp };
}

/**
 * Enrolls users, each logging in once after its batch has confirmed, until
 * for a load starting within START_DELAY_MS and lasting `durationMs`, the
 * codes usable by each moment cover the calls made by then,
 * `callsBy(ms since its start)`. A new user's login leaves it one code of
 * this period's pair, or none until the next period in a period's last
 * seconds: then it waits for the next period. Throws when it cannot get
 * there within ENROLL_LIMIT_MS.
 */
async function enrollUntil(options: SizingOptions, durationMs: number, callsBy: (elapsedMs: number) => number): Promise<void> {
  const { context, concurrency } = options;
  const giveUpAt = Date.now() + ENROLL_LIMIT_MS;
  for (;;) {
    const now = Date.now();
    const short = usersShort(context, now, durationMs, callsBy);
    if (short === 0) return;
    if (now > giveUpAt) throw new Error(`sizing verify_totp's users: still ${short} users short after ${ENROLL_LIMIT_MS / 1000} s of enrolling`);
    if (short === Infinity) {
      await sleep(PERIOD_MS - (now % PERIOD_MS) + 100);
      continue;
    }
    const from = context.users.length;
    await options.enrollMore(short);
    await logInOnce(context, context.users.slice(from), concurrency);
  }
}

/**
 * How many new users would make up for the codes missing at the worst moment
 * of a load that starts within START_DELAY_MS of `now` (Infinity: new users
 * could not help before the next period). The moments checked: the load's
 * start, its end, and the instant before each period in between begins (its
 * codes become usable then). Codes of the oldest step stop being usable
 * IN_FLIGHT_MARGIN_MS before a period ends: those count only as far as the
 * calls before that instant can spend them (the tickets hand out the oldest
 * step first).
 */
function usersShort(context: ScenarioContext, now: number, durationMs: number, callsBy: (elapsedMs: number) => number): number {
  const { tickets } = context;
  // A new user confirms with the previous period's code, or this one's in its last seconds, and logs in with the next one.
  const newUserSpent = timeStepAt(new Date(now + IN_FLIGHT_MARGIN_MS));
  let most = 0;
  for (let start = now; start <= now + START_DELAY_MS; start += 500) {
    const end = start + durationMs;
    const moments = [start, end, ...instantsIn(start, end, 0).map((boundary) => boundary - 1)];
    const expiries = instantsIn(start, end, IN_FLIGHT_MARGIN_MS);
    for (const at of moments) {
      const total = tickets.capacity(start, at);
      let usable = total;
      let perNewUser = usableSteps(newUserSpent, start, at);
      for (const expiry of expiries.filter((instant) => instant <= at)) {
        const after = tickets.capacity(expiry, at);
        usable = Math.min(usable, Math.min(callsBy(expiry - start), total - after) + after);
        perNewUser = Math.min(perNewUser, usableSteps(newUserSpent, expiry, at));
      }
      const missing = callsBy(at - start) - usable;
      if (missing <= 0) continue;
      if (perNewUser === 0) return Infinity;
      most = Math.max(most, Math.ceil(missing / perNewUser));
    }
  }
  return most;
}

/** The instants in (fromMs, toMs] that are `beforeMs` before a period begins. */
function instantsIn(fromMs: number, toMs: number, beforeMs: number): number[] {
  const instants = [];
  for (let at = (Math.floor((fromMs + beforeMs) / PERIOD_MS) + 1) * PERIOD_MS - beforeMs; at <= toMs; at += PERIOD_MS) instants.push(at);
  return instants;
}

/**
 * Has each of `users` whose copy is not current (see BenchUser.copyCurrent)
 * log in once, with its own oldest usable code (outside the tickets' turn, so
 * one login each is enough). A retry after UNAVAILABLE or DEADLINE_EXCEEDED
 * takes the next code: the first may have been accepted.
 */
async function logInOnce(context: ScenarioContext, users: readonly BenchUser[], concurrency: number): Promise<void> {
  const waiting = users.filter((user) => !user.copyCurrent);
  await forEachParallel(waiting.length, concurrency, (index) =>
    retryingSetup(() => {
      const user = waiting[index]!;
      const ticket = context.tickets.takeFor(user);
      // None left this period (it remembered a device moments ago): its first login in the window reads MongoDB.
      return ticket === null ? Promise.resolve() : verifyTicket(context.calls, ticket);
    }),
  );
}
