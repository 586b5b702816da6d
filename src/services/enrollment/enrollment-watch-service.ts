import type { Clock } from '../../domain/clock.js';
import { ErrorReason, hasReason } from '../../domain/errors.js';
import type { Notifier, FactorStore, PendingEnrollmentStore } from '../../stores/ports/index.js';
import type { BeginEnrollment, BegunEnrollment, EnrollmentService } from './enrollment-service.js';
import { Wakeup } from '../security-events/wakeup.js';

export interface WatchEnrollment extends BeginEnrollment {
  /** Fresh enrollments that may follow the first one before the watch gives up (the handler resolves 0 to the default). */
  readonly maxRefreshes: number;
}

/** What a watch sends, in order: enrollments, then at most one `confirmed` or `expired`. */
export type WatchEvent =
  | { readonly kind: 'enrollment'; readonly enrollment: BegunEnrollment }
  | { readonly kind: 'confirmed'; readonly authenticatorId: string; readonly enabledAt: Date }
  | { readonly kind: 'expired' };

/** How a watch ended without an error: `ended` means its signal stopped it (the client went, or the instance stops). */
export type WatchEnd = 'confirmed' | 'expired' | 'ended';

/** What the stores say about the watch's current enrollment. */
type Check =
  | { readonly kind: 'confirmed'; readonly authenticatorId: string; readonly enabledAt: Date }
  /** Nothing to do before `until` (or a notice): not expired yet, or a Confirm of it is still finishing. */
  | { readonly kind: 'waiting'; readonly until: Date }
  /** It expired (or was replaced or cancelled, and its time is up) without a confirmation. */
  | { readonly kind: 'expired' };

/**
 * WatchTotpEnrollment: an enrollment whose QR code refreshes itself until it
 * is confirmed, on any instance. Woken by Notifier, never by
 * polling: its only timer is the current enrollment's expiry. Whatever wakes
 * it, it decides from the stores, so a lost notice only delays it to that
 * expiry.
 */
export class EnrollmentWatchService {
  constructor(
    private readonly deps: {
      readonly enrollment: EnrollmentService;
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly confirmations: Notifier;
      readonly clock: Clock;
    },
  ) {}

  /**
   * The whole stream, with every way it ends:
   * - `confirmed`: the current enrollment's authenticator is durable: sends `confirmed`;
   * - `expired`: the enrollment after `maxRefreshes` refreshes expired unconfirmed: sends `expired`;
   * - `ended`: `signal` aborted while waiting (client cancel, deadline, shutdown); aborted
   *   anywhere else, the store call or `send` in progress throws CALL_ENDED instead.
   *   Either way nothing is written afterwards: the last enrollment is left to expire;
   * - throws: a store failure (STORE_UNAVAILABLE), or a Begin error, before the first
   *   message or on a refresh (MFA_ALREADY_ENABLED: another enrollment turned MFA on).
   * `send` resolves once the transport has taken the event: no new enrollment is
   * made while a client is not reading the previous one.
   */
  async watch(request: WatchEnrollment, send: (event: WatchEvent) => Promise<void>, signal: AbortSignal): Promise<WatchEnd> {
    const wakeup = new Wakeup(this.deps.clock);
    // Listening before the first Begin: a Confirm, however quick, cannot slip through unnoticed.
    const unsubscribe = await this.deps.confirmations.subscribe(request.userId, () => wakeup.notify());
    try {
      let current = await this.deps.enrollment.begin(request);
      await send({ kind: 'enrollment', enrollment: current });
      let refreshes = 0;
      let until = current.expiresAt;
      for (;;) {
        if (!(await wakeup.wait(until, signal))) return 'ended';
        const check = await this.#check(request.userId, current);
        if (check.kind === 'confirmed') {
          await send(check);
          return 'confirmed';
        }
        if (check.kind === 'waiting') {
          until = check.until;
          continue;
        }
        if (refreshes === request.maxRefreshes) {
          await send({ kind: 'expired' });
          return 'expired';
        }
        const fresh = await this.#refresh(request, current);
        // A Confirm of the current enrollment got in just before the refresh: check again, now.
        if (fresh === null) {
          until = this.deps.clock.now();
          continue;
        }
        current = fresh;
        refreshes += 1;
        until = current.expiresAt;
        await send({ kind: 'enrollment', enrollment: current });
      }
    } finally {
      await unsubscribe();
    }
  }

  /**
   * Reads both stores: the durable record says whether a Confirm finished; the
   * pending enrollment says whether one is under way (recorded, not yet
   * durable: it then stays confirmed for one more TTL, which is how long the
   * watch waits for its notice before giving up on it).
   */
  async #check(userId: string, current: BegunEnrollment): Promise<Check> {
    const [record, pending] = await Promise.all([this.deps.factors.get(userId), this.deps.pending.get(userId)]);
    const durable = record?.enabled ? record.authenticators.find((a) => a.authenticatorId === current.authenticatorId) : undefined;
    if (durable !== undefined) return { kind: 'confirmed', authenticatorId: durable.authenticatorId, enabledAt: record!.enabledAt! };
    if (pending?.enrollmentId === current.enrollmentId && pending.confirmation !== undefined) return { kind: 'waiting', until: pending.expiresAt };
    if (this.deps.clock.now() < current.expiresAt) return { kind: 'waiting', until: current.expiresAt };
    return { kind: 'expired' };
  }

  /**
   * A fresh enrollment in place of the expired one, as a new Begin makes it;
   * null when Begin found the current one confirmed after all (a Confirm
   * recorded between the check and now): that Confirm must be waited for, not
   * replaced. Any other refusal ends the watch.
   */
  async #refresh(request: WatchEnrollment, current: BegunEnrollment): Promise<BegunEnrollment | null> {
    try {
      return await this.deps.enrollment.begin(request, { refreshing: current.enrollmentId });
    } catch (error) {
      if (hasReason(error, ErrorReason.MFA_ALREADY_ENABLED) && (await this.#check(request.userId, current)).kind !== 'expired') return null;
      throw error;
    }
  }
}
