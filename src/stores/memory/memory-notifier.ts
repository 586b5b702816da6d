import type { Notifier, Unsubscribe } from '../ports/index.js';

type Listener = (message: string) => void;

/** In-process Notifier: the embedded mode is one instance, so a map of listeners is all it takes. */
export class MemoryNotifier implements Notifier {
  readonly #byTopic = new Map<string, Set<Listener>>();

  async publish(topic: string, message: string): Promise<number> {
    // Like Redis pub/sub: who listens when it is published hears it, on a later turn, if still listening then.
    const listening = [...(this.#byTopic.get(topic) ?? [])];
    setImmediate(() => {
      for (const listener of listening) if (this.#byTopic.get(topic)?.has(listener)) listener(message);
    });
    return listening.length > 0 ? 1 : 0;
  }

  async subscribe(topic: string, listener: Listener): Promise<Unsubscribe> {
    // Each subscription gets its own function, so one listener subscribed twice is removed once per call.
    const own: Listener = (message) => listener(message);
    const listeners = this.#byTopic.get(topic) ?? new Set<Listener>();
    this.#byTopic.set(topic, listeners.add(own));
    return async () => {
      listeners.delete(own);
      if (listeners.size === 0 && this.#byTopic.get(topic) === listeners) this.#byTopic.delete(topic);
    };
  }
}
