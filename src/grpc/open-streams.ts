import { ErrorReason, MfaError } from '../domain/errors.js';

/** One admitted stream: aborted when the instance shuts down; released when the stream ends. */
export interface StreamSlot {
  readonly shutdown: AbortSignal;
  release(): void;
}

/**
 * The server streams open on this instance, shared by every streaming RPC:
 * at most `max` at once (MFA_MAX_WATCH_STREAMS), so that slow or idle
 * clients cannot hold the instance's memory and connections without bound;
 * and, at shutdown, every one is told to end (the stream middleware answers
 * UNAVAILABLE / SHUTTING_DOWN, so that its client reconnects elsewhere).
 */
export class OpenStreams {
  readonly #open = new Set<AbortController>();
  #closing = false;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.#open.size;
  }

  /** Takes a slot; throws STREAM_LIMIT when all are taken, SHUTTING_DOWN once closeAll was called. */
  admit(): StreamSlot {
    if (this.#closing) throw new MfaError(ErrorReason.SHUTTING_DOWN, 'this instance is shutting down; call again');
    if (this.#open.size >= this.max) {
      throw new MfaError(ErrorReason.STREAM_LIMIT, `this instance has ${this.max} streams open, the most MFA_MAX_WATCH_STREAMS allows; call again later`);
    }
    const slot = new AbortController();
    this.#open.add(slot);
    return { shutdown: slot.signal, release: () => void this.#open.delete(slot) };
  }

  /** Ends every open stream and admits no more. */
  closeAll(): void {
    this.#closing = true;
    for (const slot of this.#open) slot.abort();
  }
}
