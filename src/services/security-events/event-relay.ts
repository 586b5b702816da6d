import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import type { SecurityEventRecord } from '../../domain/security-events.js';
import type { Notifier, OutboxStore, SecurityEventLog } from '../../stores/ports/index.js';

/** The Notifier topic on which relays tell every instance's WatchSecurityEvents streams to read on. */
export const RELAYED_TOPIC = 'security-events';

export interface EventRelayOptions {
  /** How often the sweep looks for events no relay has moved (an instance died); it also runs at start. */
  readonly sweepEveryMs: number;
  /** How old an outbox entry must be for the sweep to take it (younger ones are their writer's to relay). */
  readonly settleMs: number;
  /** MFA_EVENT_RETENTION_DAYS in seconds: events older are removed where the server has no TTL index. */
  readonly retentionSeconds: number;
  /** Most users' outboxes relayed in one round. */
  readonly batchUsers: number;
}

export const DEFAULT_RELAY_OPTIONS: Omit<EventRelayOptions, 'retentionSeconds' | 'sweepEveryMs'> = { settleMs: 1000, batchUsers: 100 };
// A round that failed (a store outage) is tried again after this long, and longer each time, up to the cap.
const RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
// An outbox that could not be emptied is tried again after this long.
const DROP_RETRY_MS = 1000;

/**
 * Moves security events from users' outboxes (OutboxStore) to the event log,
 * then takes them out of the outboxes, then tells every instance. It runs in
 * every instance: the instance that wrote an event relays it at once (nudge),
 * and tries again after a failure until it succeeds. A sweep, at start and
 * every `sweepEveryMs` (MFA_EVENT_SWEEP_SECONDS), relays what is older than
 * `settleMs`: what an instance killed between its write and its relay left. Relaying is
 * idempotent: the log keeps each event id once, so two instances relaying
 * one outbox, or a relay that dies after appending and before taking events
 * out, append nothing twice. A user's outbox is appended in its order, so
 * the log keeps each user's commit order.
 *
 * Where the log has no TTL index (FerretDB, memory) it also removes events
 * past their retention, every retention / 4 (at least every second, at most hourly).
 */
export class EventRelay {
  readonly #nudged = new Set<string>();
  readonly #timers: NodeJS.Timeout[] = [];
  #wake: (() => void) | null = null;
  #sweepDue = false;
  #stopped = false;
  readonly #stopping = new AbortController();
  #loop: Promise<void> | null = null;
  /** Resolvers of drain() calls, settled when a round finds nothing more to do. */
  #idle: (() => void)[] = [];

  constructor(
    private readonly deps: {
      readonly outbox: OutboxStore;
      readonly log: SecurityEventLog;
      readonly notifier: Notifier;
      readonly clock: Clock;
      readonly logger: Logger;
      readonly options: EventRelayOptions;
    },
  ) {}

  /** Starts relaying; call outside any gRPC call (its timers and loop must not belong to one). */
  start(): void {
    const { options } = this.deps;
    this.#sweepDue = true;
    this.#every(options.sweepEveryMs, () => {
      this.#sweepDue = true;
      this.#wake?.();
    });
    if (!this.deps.log.expiresItself) {
      const retentionMs = options.retentionSeconds * 1000;
      this.#every(Math.min(3_600_000, Math.max(1000, retentionMs / 4)), () => void this.#expire(retentionMs));
    }
    this.#loop = this.#run();
  }

  /** Relays the user's outbox soon (after `afterMs`, when given): called after each write that carried events. */
  nudge(userId: string, afterMs = 0): void {
    if (this.#stopped) return;
    if (afterMs > 0) {
      setTimeout(() => this.nudge(userId), afterMs).unref();
      return;
    }
    this.#nudged.add(userId);
    this.#wake?.();
  }

  /** Resolves once everything nudged so far, and a sweep, have been relayed (tests). */
  async drain(): Promise<void> {
    this.#sweepDue = true;
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#wake?.();
    await idle;
  }

  /** Stops, after the round under way. What is left in outboxes is relayed by the next instance to sweep. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort();
    for (const timer of this.#timers) clearInterval(timer);
    this.#wake?.();
    await this.#loop;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  async #run(): Promise<void> {
    let retryMs = RETRY_MS;
    while (!this.#stopped) {
      if (this.#nudged.size === 0 && !this.#sweepDue) {
        for (const resolve of this.#idle.splice(0)) resolve();
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
        continue;
      }
      const users = [...this.#nudged].slice(0, this.deps.options.batchUsers);
      for (const userId of users) this.#nudged.delete(userId);
      if (users.length > 0) {
        try {
          const outboxes = await inTurns(users, async (userId) => [userId, await this.deps.outbox.outbox(userId)] as const);
          await this.#relay(new Map(outboxes.map((settled) => {
            if (settled.status === 'rejected') throw settled.reason;
            return settled.value;
          })));
          retryMs = RETRY_MS;
        } catch (error) {
          // What was not relayed stays in its outbox: try these users again, after a pause.
          this.deps.logger.warn({ err: error, retryMs }, 'security events not relayed yet; retrying');
          for (const userId of users) this.#nudged.add(userId);
          await pause(retryMs, this.#stopping.signal);
          retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
        }
      }
      if (this.#sweepDue) await this.#sweep();
    }
  }

  /**
   * Relays what is older than settleMs in any outbox. Its own failures (on
   * FerretDB, which scans for it, a timeout with many users) wait for the next
   * sweep: they never hold back the events their writers just nudged.
   */
  async #sweep(): Promise<void> {
    this.#sweepDue = false;
    const { options } = this.deps;
    try {
      const before = new Date(this.deps.clock.now().getTime() - options.settleMs);
      const found = await this.deps.outbox.outboxes(before, options.batchUsers);
      await this.#relay(new Map(found.map(({ userId, events }) => [userId, events])));
      // The outboxes found, emptied now (or found empty): no longer pending once they stay so. A failure
      // leaves them pending, for the next sweep.
      const now = this.deps.clock.now();
      const settled = await inTurns(found, ({ userId }) => this.deps.outbox.settleOutbox(userId, now));
      const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed !== undefined) this.deps.logger.warn({ err: failed.reason }, 'could not settle swept outboxes; the next sweep tries again');
      // A full batch: more may be waiting (after an outage, say); the next round sweeps again.
      if (found.length === options.batchUsers) this.#sweepDue = true;
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'the sweep for unrelayed security events failed; it runs again at the next interval');
    }
  }

  /** Appends these outboxes' events to the log, announces them, then takes them out of the outboxes. */
  async #relay(outboxes: ReadonlyMap<string, readonly SecurityEventRecord[]>): Promise<void> {
    const { outbox } = this.deps;
    const events = [...outboxes.values()].flat();
    if (events.length === 0) return;
    await this.deps.log.append(events);
    // In the log now: streams may read them at once, whatever happens to the outboxes.
    await this.deps.notifier.publish(RELAYED_TOPIC, '').catch((error: unknown) =>
      this.deps.logger.warn({ err: error }, 'could not announce relayed security events; streams read them at their next heartbeat'),
    );
    // Each user on its own: one outbox that cannot be emptied now (on FerretDB, a user lock kept after a
    // write that timed out) must not hold back the others. Its events are appended again later (skipped
    // by id) until its outbox empties.
    const drops = await inTurns([...outboxes], ([userId, relayed]) => outbox.dropFromOutbox(userId, relayed));
    const stuck = [...outboxes.keys()].filter((_, i) => drops[i]!.status === 'rejected');
    if (stuck.length > 0) {
      const cause = (drops.find((d) => d.status === 'rejected') as PromiseRejectedResult).reason;
      this.deps.logger.warn({ users: stuck.length, err: cause }, 'relayed security events not yet taken out of their outboxes; retrying');
      for (const userId of stuck) this.nudge(userId, DROP_RETRY_MS);
    }
  }

  async #expire(retentionMs: number): Promise<void> {
    try {
      const removed = await this.deps.log.removeBefore(new Date(this.deps.clock.now().getTime() - retentionMs));
      if (removed > 0) this.deps.logger.info({ removed }, 'security events past their retention removed');
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not remove security events past their retention; trying again later');
    }
  }
}

// The relay's store calls at once: a round of 100 users must not take 100 of the pool's connections
// from the calls being served (FerretDB on PostgreSQL stalled under that in the benchmark).
const RELAY_CONCURRENCY = 4;

/** `work` on each item, RELAY_CONCURRENCY at a time; each outcome settled, in the items' order. */
async function inTurns<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        results[i] = { status: 'fulfilled', value: await work(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RELAY_CONCURRENCY, items.length) }, worker));
  return results;
}

/** Waits `ms`, or less when `signal` aborts (stop() must not wait out a retry pause). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
