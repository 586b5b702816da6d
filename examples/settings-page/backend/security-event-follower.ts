/**
 * DEMO-GRADE: one WatchSecurityEvents stream for the whole backend, whose
 * events are handed to the browsers of the user they concern. It needs an
 * event caller's token (MFA_EVENT_CALLERS): a real application would leave
 * this to its notifications service and read from there. It follows from
 * "now" and keeps its cursor in memory, reconnecting after a second when the
 * stream ends (a restart of the service, say): no event is missed while the
 * backend runs. A token that may not follow is reported once, not retried.
 */
import { status, type ClientReadableStream, type Metadata, type ServiceError } from '@grpc/grpc-js';
import type { MfaServiceClient, SecurityEvent, WatchSecurityEventsResponse } from 'mfa-service/client';

type Listener = (event: SecurityEvent) => void;

export class SecurityEventFollower {
  private readonly listeners = new Map<string, Set<Listener>>();
  private cursor = '';
  private call: ClientReadableStream<WatchSecurityEventsResponse> | null = null;
  private retry: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: { client: MfaServiceClient; auth: Metadata; log: (line: string) => void }) {}

  start(): void {
    this.stopped = false;
    const call = this.deps.client.watchSecurityEvents({ afterCursor: this.cursor, types: [] }, this.deps.auth);
    this.call = call;
    call.on('data', (message: WatchSecurityEventsResponse) => {
      if (message.event !== undefined) {
        for (const listener of this.listeners.get(message.event.userId) ?? []) listener(message.event);
      }
      this.cursor = message.event?.cursor ?? message.heartbeat?.cursor ?? this.cursor;
    });
    // Every end of the stream but our own stop: follow again from the last cursor.
    const again = (why: string) => {
      if (this.stopped || this.call !== call) return;
      this.call = null;
      this.deps.log(`security events: ${why}; following again in 1 s`);
      this.retry = setTimeout(() => this.start(), 1000);
    };
    call.on('error', (error: ServiceError) => {
      if (error.code === status.PERMISSION_DENIED || error.code === status.UNAUTHENTICATED) {
        // Calling again will not help: the token is not an event caller's (MFA_EVENTS_TOKEN).
        this.deps.log(`security events: not followed (${error.details}); the activity list shows no live updates`);
        return;
      }
      again(error.message);
    });
    call.on('end', () => again('the stream ended'));
  }

  stop(): void {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.call?.cancel();
    this.call = null;
  }

  /** Calls `listener` with each new event of `userId`; returns the unsubscribe function. */
  subscribe(userId: string, listener: Listener): () => void {
    const set = this.listeners.get(userId) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(userId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(userId);
    };
  }
}
