import type { LoadGeneratorProcess, ScenarioMeasurement } from './load-generator-process.js';
import type { BenchOptions, ScenarioName } from './options.js';
import type { ScenarioResult } from './report.js';
import type { StoreProbe } from './store-probe.js';

/** Calls made one by one to count a scenario's store round trips. */
export const ROUND_TRIP_SAMPLE = 20;
/**
 * Reads are sampled after the load, in the steady state (caches warm, as
 * "CheckSession: one Redis round trip when Redis has the value" means);
 * verify_totp and enroll before it, while unspent codes are sure to be left.
 */
const SAMPLE_AFTER_LOAD: ReadonlySet<ScenarioName> = new Set(['health', 'check_session', 'check_device']);

/** One scenario: the load, and a few calls one at a time while the stores' command counters are watched. */
export async function measureScenario(
  scenario: ScenarioName,
  options: BenchOptions,
  deps: { readonly generator: LoadGeneratorProcess; readonly probe: StoreProbe | null },
): Promise<ScenarioResult> {
  const load = async () =>
    (await deps.generator.request({
      kind: 'run',
      scenario,
      warmupMs: options.warmupS * 1000,
      durationMs: options.durationS * 1000,
    })) as ScenarioMeasurement;
  const after = SAMPLE_AFTER_LOAD.has(scenario);
  const measuredFirst = after ? await load() : null;
  const trips = await sampleRoundTrips(scenario, deps);
  const measured = measuredFirst ?? (await load());
  return { ...measured, redisRoundTrips: trips?.redis ?? null, mongoRoundTrips: trips?.mongo ?? null };
}

/** Round trips per call over a few calls one at a time; null when one failed (it may have stopped short) or without stores to watch. */
async function sampleRoundTrips(
  scenario: ScenarioName,
  { generator, probe }: { readonly generator: LoadGeneratorProcess; readonly probe: StoreProbe | null },
): Promise<{ redis: number; mongo: number } | null> {
  if (probe === null) return null;
  const mongoBefore = await probe.mongoCrudCommands();
  let sample = { calls: 0, failed: 0 };
  const redis = await probe.redisRoundTrips(async () => {
    sample = (await generator.request({ kind: 'calls', scenario, count: ROUND_TRIP_SAMPLE })) as typeof sample;
  });
  const mongo = (await probe.mongoCrudCommands()) - mongoBefore;
  return sample.failed === 0 ? { redis: redis / sample.calls, mongo: mongo / sample.calls } : null;
}
