import { timeStepAt } from '../src/domain/totp.js';
import { runLoad } from './load-loop.js';
import { forEachParallel } from './bench-users.js';
import { scenarioCall, verifyNextCode, type ScenarioContext } from './scenarios.js';

/** How long the probe of verify_totp's rate runs. */
const PROBE_MS = 1_000;
/** Setup between the probe and the window's end that the sizing must also cover (enrolling, the round-trip sample). */
const SLACK_MS = 2_000;
/** Headroom over the probed rate: the window may run faster than the probe did (warm caches, a quieter machine). */
const HEADROOM = 1.3;

/**
 * Sizes the users to verify_totp's window before it runs, and has each log in
 * once. A short probe of the scenario itself measures its rate on this
 * machine and these stores; then as many users are enrolled as one login each
 * (which takes the user's Redis copy, TotpCopy) and the warm-up and window
 * need at that rate with headroom (each user yields the codes of the current
 * and next periods, then one more per 30 s; a code is never used twice). So
 * the window measures logins of users who logged in before, within
 * MFA_TOTP_COPY_SECONDS (the steady state: each login renews the copy), it
 * does not run out of unspent codes, and a slow store does not pay for users
 * it cannot use. The probe's rate is that of first logins (no copy yet).
 */
export async function sizeUsers(options: {
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly serverPid: number;
  readonly context: ScenarioContext;
  readonly enrollMore: (count: number) => Promise<void>;
}): Promise<{ probedRps: number; needed: number; added: number; users: number }> {
  const { context } = options;
  const probe = await runLoad({
    concurrency: options.concurrency,
    warmupMs: 0,
    durationMs: PROBE_MS,
    serverPid: options.serverPid,
    call: scenarioCall('verify_totp', context),
  });
  const probedRps = Math.max(1, probe.windowSuccesses / Math.max(0.001, probe.windowMs / 1000));
  const start = Date.now();
  let users = context.users.length;
  let added = 0;
  let needed = 0;
  // Each added user needs one more login before the window, and the logins take longer: twice over settles it.
  for (let round = 0; round < 3; round += 1) {
    const end = start + SLACK_MS + (users * 1000) / probedRps + options.warmupMs + options.durationMs;
    needed = Math.ceil((probedRps * HEADROOM * (SLACK_MS + options.warmupMs + options.durationMs)) / 1000) + users;
    const available = context.tickets.capacity(start, end) + added * perNewUser(start, end);
    if (needed <= available) break;
    // A new user confirms with this period's code or the one before: it yields the steps after it up to the window's end, one of them before it.
    const more = Math.ceil((needed - available) / Math.max(1, perNewUser(start, end) - 1));
    added += more;
    users += more;
  }
  if (added > 0) await options.enrollMore(added);
  await forEachParallel(context.users.length, options.concurrency, () => verifyNextCode(context));
  return { probedRps: Math.round(probedRps), needed, added, users: context.users.length };
}

function perNewUser(start: number, end: number): number {
  return Math.max(1, timeStepAt(new Date(end)) + 1 - timeStepAt(new Date(start)));
}
