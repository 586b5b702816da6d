import type { Clock } from '../../src/domain/clock.js';

/** A clock that moves only when told to; its timers fire as advance() passes them. */
export class FakeClock implements Clock {
  #ms: number;
  #timers: Array<{ at: number; callback: () => void }> = [];

  constructor(start: Date | number = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  after(ms: number, callback: () => void): () => void {
    const timer = { at: this.#ms + ms, callback };
    this.#timers.push(timer);
    // Due already: fires on a later turn, as a real timer would, without waiting for an advance().
    if (ms <= 0) setImmediate(() => this.advance(0));
    return () => void (this.#timers = this.#timers.filter((t) => t !== timer));
  }

  advance(ms: number): void {
    this.#ms += ms;
    const due = this.#timers.filter((t) => t.at <= this.#ms).sort((a, b) => a.at - b.at);
    this.#timers = this.#timers.filter((t) => t.at > this.#ms);
    for (const timer of due) timer.callback();
  }
}

/** A clock that runs with real time, offset by a movable amount (for servers whose Redis TTLs are real); its timers are real ones. */
export class OffsetClock implements Clock {
  offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  after(ms: number, callback: () => void): () => void {
    const timer = setTimeout(callback, ms);
    return () => clearTimeout(timer);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
