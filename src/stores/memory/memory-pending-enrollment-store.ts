import type { Clock } from '../../domain/clock.js';
import type { EnrollmentConfirmation, PendingEnrollment, PendingEnrollmentStore, PutPendingOptions } from '../ports/index.js';
import { ExpiringMap } from './expiring-map.js';

/** In-process PendingEnrollmentStore; each enrollment expires at its expiresAt, by the injected clock. */
export class MemoryPendingEnrollmentStore implements PendingEnrollmentStore {
  readonly #byUser: ExpiringMap<PendingEnrollment>;

  constructor(clock: Clock) {
    this.#byUser = new ExpiringMap(clock);
  }

  // Each method checks and writes with no await in between: atomic, as the Redis scripts are.

  async put(enrollment: PendingEnrollment, options: PutPendingOptions = {}): Promise<boolean> {
    const current = this.#byUser.get(enrollment.userId);
    if (current?.confirmation && (!options.replaceConfirmed || current.enrollmentId === options.keepConfirmedId)) return false;
    this.#keep(enrollment);
    return true;
  }

  async get(userId: string): Promise<PendingEnrollment | null> {
    return this.#byUser.get(userId) ?? null;
  }

  async confirm(userId: string, enrollmentId: string, confirmation: EnrollmentConfirmation, keepUntil: Date): Promise<PendingEnrollment | null> {
    const found = this.#byUser.get(userId);
    if (found === undefined || found.enrollmentId !== enrollmentId) return null;
    if (found.confirmation) return found;
    const expiresAt = keepUntil.getTime() > found.expiresAt.getTime() ? keepUntil : found.expiresAt;
    const confirmed = { ...found, expiresAt, confirmation };
    this.#keep(confirmed);
    return confirmed;
  }

  async remove(userId: string, enrollmentId: string): Promise<boolean> {
    const found = this.#byUser.get(userId);
    if (found === undefined || found.enrollmentId !== enrollmentId || found.confirmation) return false;
    this.#byUser.delete(userId);
    return true;
  }

  async discard(userId: string, enrollmentId: string): Promise<void> {
    if (this.#byUser.get(userId)?.enrollmentId === enrollmentId) this.#byUser.delete(userId);
  }

  async clear(userId: string): Promise<void> {
    this.#byUser.delete(userId);
  }

  /** How many enrollments are held, expired ones not yet removed included (tests). */
  get held(): number {
    return this.#byUser.held;
  }

  #keep(enrollment: PendingEnrollment): void {
    this.#byUser.set(enrollment.userId, enrollment, enrollment.expiresAt.getTime());
  }
}
