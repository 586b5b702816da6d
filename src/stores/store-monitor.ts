import type { Logger } from 'pino';

/** A cheap round trip to one store (PING, {ping: 1}). */
export interface StoreProbe {
  readonly name: string;
  ping(): Promise<unknown>;
}

/**
 * Pings every store on an interval and reports when the set of unreachable
 * stores changes, so health checking can say NOT_SERVING while a store is
 * down and SERVING again once it is back, without a restart. A round starts
 * `intervalMs` after the previous one ended, never while it runs: a ping may
 * take longer than the interval (up to the store timeout), and overlapping
 * rounds could report their results out of order.
 */
export class StoreMonitor {
  #timer: NodeJS.Timeout | null = null;
  #down = new Set<string>();
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly deps: {
      readonly probes: readonly StoreProbe[];
      readonly intervalMs: number;
      readonly onChange: (healthy: boolean) => void;
      readonly logger: Logger;
    },
  ) {}

  start(): void {
    this.#scheduleRound();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #scheduleRound(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.check()
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'store health round failed'))
        .finally(() => this.#scheduleRound());
    }, this.deps.intervalMs);
    this.#timer.unref();
  }

  /** One round of pings. */
  async check(): Promise<void> {
    const results = await Promise.all(
      this.deps.probes.map(async (probe) => {
        try {
          await probe.ping();
          return null;
        } catch (error) {
          return { name: probe.name, error };
        }
      }),
    );
    const down = new Set(results.flatMap((r) => (r === null ? [] : [r.name])));
    const changed = down.size !== this.#down.size || [...down].some((name) => !this.#down.has(name));
    if (!changed) return;
    for (const r of results) if (r !== null && !this.#down.has(r.name)) this.deps.logger.warn({ store: r.name, err: r.error }, 'store unreachable');
    for (const name of this.#down) if (!down.has(name)) this.deps.logger.info({ store: name }, 'store reachable again');
    this.#down = down;
    if (!this.#stopped) this.deps.onChange(down.size === 0);
  }
}
