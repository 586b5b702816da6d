import type { Clock } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { LoggedSecurityEvent, SecurityEventType } from '../../domain/security-events.js';
import type { Notifier, SecurityEventLog } from '../../stores/ports/index.js';
import { badCursor, decodeEventCursor, EARLIEST_CURSOR, encodeEventCursor } from './event-cursor.js';
import { RELAYED_TOPIC } from './event-relay.js';
import { Wakeup } from './wakeup.js';

/** One message of a WatchSecurityEvents stream. */
export type SecurityEventMessage =
  | { readonly event: LoggedSecurityEvent & { readonly cursor: string } }
  | { readonly heartbeat: { readonly cursor: string } };

/** Where the stream's messages go: `send` resolves once the transport took the message (backpressure). */
export interface SecurityEventSink {
  send(message: SecurityEventMessage): Promise<void>;
  readonly signal: AbortSignal;
}

// Events read per query; a stream sends them one by one as its client takes them.
const READ_BATCH = 100;

/**
 * WatchSecurityEvents: sends the event log from a cursor on, then follows it.
 * It reads only up to the log's head as read before, and positions there
 * have no gaps and commit in order, so nothing is skipped and nothing sent
 * twice; a heartbeat carries the cursor past events of other types. It wakes
 * on the relay's notice and, in case a notice is lost, at each heartbeat.
 */
export class SecurityEventWatchService {
  constructor(
    private readonly deps: {
      readonly log: SecurityEventLog;
      readonly notifier: Notifier;
      readonly clock: Clock;
      readonly heartbeatMs: number;
    },
  ) {}

  /** Checks the request and returns where the stream starts; throws INVALID_ARGUMENT or CURSOR_EXPIRED. */
  async startPosition(afterCursor: string): Promise<number> {
    const { log } = this.deps;
    const head = await log.head();
    if (afterCursor === '') return head;
    if (afterCursor === EARLIEST_CURSOR) return ((await log.oldest()) ?? head + 1) - 1;
    const position = decodeEventCursor(afterCursor);
    if (position > head) throw badCursor('is ahead of the newest event: it is from another deployment of this service');
    const oldest = await log.oldest();
    if (position < head && position < (oldest ?? head + 1) - 1) {
      throw new MfaError(ErrorReason.CURSOR_EXPIRED, 'events after after_cursor were removed by retention (MFA_EVENT_RETENTION_DAYS); start again from "earliest"');
    }
    return position;
  }

  /**
   * Runs the stream until it has to end (the sink's signal: the client went,
   * the deadline passed, the instance stops), which it reports by throwing
   * CALL_ENDED from a send or here; or until a store fails.
   */
  async watch(start: number, types: readonly SecurityEventType[] | null, sink: SecurityEventSink): Promise<never> {
    let position = start;
    const wakeup = new Wakeup(this.deps.clock);
    const unsubscribe = await this.deps.notifier.subscribe(RELAYED_TOPIC, () => wakeup.notify());
    try {
      await sink.send({ heartbeat: { cursor: encodeEventCursor(position) } });
      let lastSentAt = this.deps.clock.now().getTime();
      for (;;) {
        const head = await this.deps.log.head();
        while (position < head) {
          const batch = await this.deps.log.read(position, head, READ_BATCH, types);
          for (const event of batch) {
            await sink.send({ event: { ...event, cursor: encodeEventCursor(event.position) } });
            position = event.position;
            lastSentAt = this.deps.clock.now().getTime();
          }
          // A short batch read everything of `types` up to head: the cursor moves past the rest.
          if (batch.length < READ_BATCH) position = head;
        }
        if (this.deps.clock.now().getTime() - lastSentAt >= this.deps.heartbeatMs) {
          await sink.send({ heartbeat: { cursor: encodeEventCursor(position) } });
          lastSentAt = this.deps.clock.now().getTime();
        }
        // A relay's notice, or the next heartbeat (which also catches a lost notice).
        if (!(await wakeup.wait(new Date(lastSentAt + this.deps.heartbeatMs), sink.signal))) {
          throw new MfaError(ErrorReason.CALL_ENDED, 'the stream ended');
        }
      }
    } finally {
      await unsubscribe();
    }
  }
}
