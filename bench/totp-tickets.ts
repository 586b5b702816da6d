import { timeStepAt } from '../src/domain/totp.js';
import { IN_FLIGHT_MARGIN_MS, markSpent, type BenchUser } from './bench-users.js';

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
 * any user's step s+1), so one user's calls are far apart in the queue;
 * `takeFor` hands out one user's next step out of turn (the queue then skips
 * that user's older steps).
 */
export class TotpTickets {
  #queue: TotpTicket[] = [];
  #head = 0;
  #filledUpTo = -Infinity;

  constructor(private readonly users: readonly BenchUser[]) {}

  /** The next usable ticket at `nowMs`, or null when every user's usable codes are spent. */
  take(nowMs = Date.now()): TotpTicket | null {
    let filled = false;
    if (newestUsable(nowMs) > this.#filledUpTo || this.#head === this.#queue.length) {
      this.#fill(nowMs);
      filled = true;
    }
    const oldest = oldestUsable(nowMs);
    for (;;) {
      while (this.#head < this.#queue.length) {
        const ticket = this.#queue[this.#head++]!;
        if (ticket.step >= oldest && ticket.step > ticket.user.spentStep) return spend(ticket);
      }
      // Every queued ticket was stale or spent out of turn: users added since the last fill may have codes.
      if (filled) return null;
      this.#fill(nowMs);
      filled = true;
    }
  }

  /** `user`'s oldest usable step not yet handed out, at `nowMs`; null when it has none left. */
  takeFor(user: BenchUser, nowMs = Date.now()): TotpTicket | null {
    const step = Math.max(user.spentStep + 1, oldestUsable(nowMs));
    if (step > newestUsable(nowMs)) return null;
    user.scheduledStep = Math.max(user.scheduledStep, step);
    return spend({ user, step });
  }

  /**
   * How many tickets the users can still yield for calls made from `fromMs`
   * to `toMs`: each user's steps from the oldest usable at `fromMs` to the
   * newest usable at `toMs`, less those handed out already.
   */
  capacity(fromMs: number, toMs: number): number {
    const [oldest, newest] = [oldestUsable(fromMs), newestUsable(toMs)];
    let total = 0;
    for (const user of this.users) total += stepsAfter(user.spentStep, oldest, newest);
    return total;
  }

  #fill(nowMs: number): void {
    const oldest = oldestUsable(nowMs);
    const newest = newestUsable(nowMs);
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

function spend(ticket: TotpTicket): TotpTicket {
  markSpent(ticket.user, ticket.step);
  return ticket;
}

/** How many steps after `spentStep` a user can use for calls made from `fromMs` to `toMs`. */
export function usableSteps(spentStep: number, fromMs: number, toMs: number): number {
  return stepsAfter(spentStep, oldestUsable(fromMs), newestUsable(toMs));
}

function stepsAfter(spentStep: number, oldest: number, newest: number): number {
  return Math.max(0, newest - Math.max(oldest - 1, spentStep));
}

/** The oldest step still accepted when a call made at `nowMs` arrives (a step is accepted while the server's is at most one past it). */
function oldestUsable(nowMs: number): number {
  return timeStepAt(new Date(nowMs + IN_FLIGHT_MARGIN_MS)) - 1;
}

/** The newest step accepted at `nowMs`: the next period's. */
function newestUsable(nowMs: number): number {
  return timeStepAt(new Date(nowMs)) + 1;
}
