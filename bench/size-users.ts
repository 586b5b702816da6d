import { timeStepAt } from '../src/domain/totp.js';
import { runLoad } from './load-loop.js';
import { scenarioCall, type ScenarioContext } from './scenarios.js';

/** How long the probe of verify_totp's rate runs. */
const PROBE_MS = 1_000;
/** Setup between the probe and the window's end that the sizing must also cover (enrolling, the round-trip sample). */
const SLACK_MS = 2_000;
/** Headroom over the probed rate: the window may run faster than the probe did (warm caches, a quieter machine). */
const HEADROOM = 1.3;

/**
 * Sizes the users to verify_totp's window before it runs: a short probe of
 * the scenario itself measures its rate on this machine and these stores,
 * then as many users are enrolled as the warm-up and window need at that rate
 * with headroom (each user yields the codes of the current and next periods,
 * then one more per 30 s; a code is never used twice). So the window does not
 * run out of unspent codes, and a slow store does not pay for users it cannot use.
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
  const probedRps = probe.windowSuccesses / Math.max(0.001, probe.windowMs / 1000);
  const start = Date.now();
  const end = start + SLACK_MS + options.warmupMs + options.durationMs;
  const needed = Math.ceil((probedRps * HEADROOM * (end - start)) / 1000);
  const available = context.tickets.capacity(start, end);
  // A new user confirms with this period's code or the one before: it yields the steps after it up to the window's end.
  const perNewUser = Math.max(1, timeStepAt(new Date(end)) + 1 - timeStepAt(new Date(start)));
  const added = Math.max(0, Math.ceil((needed - available) / perNewUser));
  if (added > 0) await options.enrollMore(added);
  return { probedRps: Math.round(probedRps), needed, added, users: context.users.length };
}
