import { timeStepAt } from '../src/domain/totp.js';
import { IN_FLIGHT_MARGIN_MS, type BenchUser } from './bench-users.js';

/** One successful VerifyTotp waiting to happen: a user and a time step none of its earlier calls used. */
export interface TotpTicket {
  readonly user: BenchUser;
  readonly step: number;
}

/**
 * Hands out (user, step) pairs so that every VerifyTotp succeeds: each user's
 * steps strictly increase (RFC 6238 §5.2: after step T, no step <= T), and
 * each step is within the one step of drift the server accepts when the call
 * arrives. A user yields the current and next period's codes, then one more
 * per period. Steps are handed out in layers (every user's step s before
 * any user's step s+1), so one user's calls are far apart in the queue.
 */
export class TotpTickets {
  #queue: TotpTicket[] = [];
  #head = 0;
  #filledUpTo = -Infinity;

  constructor(private readonly users: readonly BenchUser[]) {}

  /** The next usable ticket at `nowMs`, or null when every user's usable codes are spent. */
  take(nowMs = Date.now()): TotpTicket | null {
    const newest = timeStepAt(new Date(nowMs)) + 1;
    if (newest > this.#filledUpTo || this.#head === this.#queue.length) this.#fill(nowMs);
    // A step is accepted while the server's step is at most one past it.
    const oldest = timeStepAt(new Date(nowMs + IN_FLIGHT_MARGIN_MS)) - 1;
    while (this.#head < this.#queue.length) {
      const ticket = this.#queue[this.#head++]!;
      if (ticket.step >= oldest) return ticket;
    }
    return null;
  }

  /**
   * How many tickets the users can still yield for calls made from `fromMs`
   * to `toMs`: each user's steps from the oldest usable at `fromMs` to the
   * newest usable at `toMs`, less those handed out already.
   */
  capacity(fromMs: number, toMs: number): number {
    const oldest = timeStepAt(new Date(fromMs + IN_FLIGHT_MARGIN_MS)) - 1;
    const newest = timeStepAt(new Date(toMs)) + 1;
    let total = this.remaining;
    for (const user of this.users) total += Math.max(0, newest - Math.max(oldest - 1, user.scheduledStep));
    return total;
  }

  /** Tickets not yet handed out (some may go stale before they are). */
  get remaining(): number {
    return this.#queue.length - this.#head;
  }

  #fill(nowMs: number): void {
    const oldest = timeStepAt(new Date(nowMs + IN_FLIGHT_MARGIN_MS)) - 1;
    const newest = timeStepAt(new Date(nowMs)) + 1;
    this.#queue = this.#queue.slice(this.#head);
    this.#head = 0;
    for (let step = oldest; step <= newest; step += 1) {
      for (const user of this.users) {
        if (step <= user.scheduledStep) continue;
        user.scheduledStep = step;
        this.#queue.push({ user, step });
      }
    }
    this.#filledUpTo = newest;
  }
}
