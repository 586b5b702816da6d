import type { ConfirmationNotifier, Unsubscribe } from '../ports.js';

type Listener = (enrollmentId: string) => void;

/** In-process ConfirmationNotifier: the embedded mode is one instance, so a map of listeners is all it takes. */
export class MemoryConfirmationNotifier implements ConfirmationNotifier {
  readonly #byUser = new Map<string, Set<Listener>>();

  async publish(userId: string, enrollmentId: string): Promise<number> {
    // Like Redis pub/sub: who listens when it is published hears it, on a later turn, if still listening then.
    const listening = [...(this.#byUser.get(userId) ?? [])];
    setImmediate(() => {
      for (const listener of listening) if (this.#byUser.get(userId)?.has(listener)) listener(enrollmentId);
    });
    return listening.length > 0 ? 1 : 0;
  }

  async subscribe(userId: string, listener: Listener): Promise<Unsubscribe> {
    // Each subscription gets its own function, so one listener subscribed twice is removed once per call.
    const own: Listener = (enrollmentId) => listener(enrollmentId);
    const listeners = this.#byUser.get(userId) ?? new Set<Listener>();
    this.#byUser.set(userId, listeners.add(own));
    return async () => {
      listeners.delete(own);
      if (listeners.size === 0 && this.#byUser.get(userId) === listeners) this.#byUser.delete(userId);
    };
  }
}
