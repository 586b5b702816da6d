import type { Clock } from '../../domain/clock.js';

/**
 * What a waiting loop sleeps on: a notice, a time, or its end. A notice that
 * comes while the loop is busy is kept (one bit), so the next wait returns at
 * once: a notice is never lost between two waits.
 */
export class Wakeup {
  #noticed = false;
  #wake: (() => void) | null = null;

  constructor(private readonly clock: Clock) {}

  notify(): void {
    this.#noticed = true;
    this.#wake?.();
  }

  /** Resolves true at the first notice (or one kept from before) or at `until`; false once `signal` aborts. */
  async wait(until: Date, signal: AbortSignal): Promise<boolean> {
    if (!this.#noticed && !signal.aborted) {
      let cancelTimer = () => {};
      let onAbort = () => {};
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
        cancelTimer = this.clock.after(Math.max(0, until.getTime() - this.clock.now().getTime()), resolve);
      });
      cancelTimer();
      signal.removeEventListener('abort', onAbort);
      this.#wake = null;
    }
    this.#noticed = false;
    return !signal.aborted;
  }
}
