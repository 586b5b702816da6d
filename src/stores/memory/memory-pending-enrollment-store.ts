import type { Clock } from '../../domain/clock.js';
import type { EnrollmentConfirmation, PendingEnrollment, PendingEnrollmentStore } from '../ports.js';

/** In-process PendingEnrollmentStore; expiry is checked against the injected clock. */
export class MemoryPendingEnrollmentStore implements PendingEnrollmentStore {
  readonly #byUser = new Map<string, PendingEnrollment>();

  constructor(private readonly clock: Clock) {}

  // Each method checks and writes with no await in between: atomic, as the Redis scripts are.

  async put(enrollment: PendingEnrollment, options: { readonly replaceConfirmed?: boolean } = {}): Promise<boolean> {
    if (!options.replaceConfirmed && this.#live(enrollment.userId)?.confirmation) return false;
    this.#byUser.set(enrollment.userId, enrollment);
    return true;
  }

  async get(userId: string): Promise<PendingEnrollment | null> {
    return this.#live(userId);
  }

  #live(userId: string): PendingEnrollment | null {
    const found = this.#byUser.get(userId);
    if (found === undefined) return null;
    if (found.expiresAt.getTime() <= this.clock.now().getTime()) {
      this.#byUser.delete(userId);
      return null;
    }
    return found;
  }

  async confirm(userId: string, enrollmentId: string, confirmation: EnrollmentConfirmation, keepUntil: Date): Promise<PendingEnrollment | null> {
    const found = this.#live(userId);
    if (found === null || found.enrollmentId !== enrollmentId) return null;
    if (found.confirmation) return found;
    const expiresAt = keepUntil.getTime() > found.expiresAt.getTime() ? keepUntil : found.expiresAt;
    const confirmed = { ...found, expiresAt, confirmation };
    this.#byUser.set(userId, confirmed);
    return confirmed;
  }

  async remove(userId: string, enrollmentId: string): Promise<boolean> {
    const found = this.#live(userId);
    if (found === null || found.enrollmentId !== enrollmentId || found.confirmation) return false;
    this.#byUser.delete(userId);
    return true;
  }

  async discard(userId: string, enrollmentId: string): Promise<void> {
    if (this.#live(userId)?.enrollmentId === enrollmentId) this.#byUser.delete(userId);
  }

  async clear(userId: string): Promise<void> {
    this.#byUser.delete(userId);
  }
}
