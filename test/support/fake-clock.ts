import type { Clock } from '../../src/domain/clock.js';

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  #ms: number;

  constructor(start: Date | number = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  advance(ms: number): void {
    this.#ms += ms;
  }
}

/** A clock that runs with real time, offset by a movable amount (for servers whose Redis TTLs are real). */
export class OffsetClock implements Clock {
  offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
