import type { Clock } from '../../domain/clock.js';
import type { PendingEnrollment, PendingEnrollmentStore } from '../ports.js';

/** In-process PendingEnrollmentStore; expiry is checked against the injected clock. */
export class MemoryPendingEnrollmentStore implements PendingEnrollmentStore {
  readonly #byUser = new Map<string, PendingEnrollment>();

  constructor(private readonly clock: Clock) {}

  async put(enrollment: PendingEnrollment): Promise<void> {
    this.#byUser.set(enrollment.userId, enrollment);
  }

  async get(userId: string): Promise<PendingEnrollment | null> {
    const found = this.#byUser.get(userId);
    if (found === undefined) return null;
    if (found.expiresAt.getTime() <= this.clock.now().getTime()) {
      this.#byUser.delete(userId);
      return null;
    }
    return found;
  }

  async remove(userId: string, enrollmentId: string): Promise<boolean> {
    const found = await this.get(userId);
    if (found === null || found.enrollmentId !== enrollmentId) return false;
    this.#byUser.delete(userId);
    return true;
  }
}
