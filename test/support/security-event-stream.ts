import { credentials, Metadata } from '@grpc/grpc-js';
import type { MongoClient } from 'mongodb';
import {
  MfaServiceClient,
  securityEventTypeToJSON,
  WatchSecurityEventsRequest,
  type SecurityEvent,
  type WatchSecurityEventsResponse,
} from '../../src/gen/mfa/v1/mfa.js';
import { openStalledStream } from './stalled-stream.js';
import { readStream, type StreamReader } from './watch-client.js';

/** A WatchSecurityEvents call through the generated client, read as its messages come. */
export interface SecurityEventWatch extends StreamReader<WatchSecurityEventsResponse> {
  /** The next event, skipping heartbeats. */
  nextEvent(timeoutMs?: number): Promise<SecurityEvent>;
}

/** Metadata with `authorization: Bearer <token>` (when given) and `x-request-id` (when given). */
export function callMetadata(options: { token?: string; requestId?: string }): Metadata {
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  if (options.requestId !== undefined) metadata.set('x-request-id', options.requestId);
  return metadata;
}

export function watchSecurityEvents(
  port: number,
  request: Partial<WatchSecurityEventsRequest>,
  options: { metadata?: Metadata; deadlineMs?: number } = {},
): SecurityEventWatch {
  const client = new MfaServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.watchSecurityEvents(WatchSecurityEventsRequest.fromPartial(request), options.metadata ?? new Metadata(), {
    deadline: Date.now() + (options.deadlineMs ?? 120_000),
  });
  const reader = readStream(call, () => client.close());
  return {
    ...reader,
    nextEvent: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = await reader.next(Math.max(1, deadline - Date.now()));
        if (message.event !== undefined) return message.event;
      }
    },
  };
}

/**
 * Takes events from `watch` until `done` says so (given every event taken so far), or fails
 * after `timeoutMs` saying what came. For a stream shared with other tests' events, `keep`
 * picks the ones that count.
 */
export async function takeEvents(
  watch: SecurityEventWatch,
  done: (events: readonly SecurityEvent[]) => boolean,
  options: { timeoutMs?: number; keep?: (event: SecurityEvent) => boolean } = {},
): Promise<SecurityEvent[]> {
  const { timeoutMs = 10_000, keep = () => true } = options;
  const deadline = Date.now() + timeoutMs;
  const events: SecurityEvent[] = [];
  while (!done(events)) {
    let event: SecurityEvent;
    try {
      event = await watch.nextEvent(Math.max(1, deadline - Date.now()));
    } catch (error) {
      throw new Error(`${(error as Error).message}; took ${events.length} event(s): ${events.map(describeEvent).join(', ')}`);
    }
    if (keep(event)) events.push(event);
  }
  return events;
}

/** Short text of an event for failure messages: TYPE(user, request id). */
export function describeEvent(event: SecurityEvent): string {
  return `${typeName(event)}(${event.userId}, ${event.requestId})`;
}

/** The event's type without the SECURITY_EVENT_TYPE_ prefix. */
export function typeName(event: { type: number }): string {
  return securityEventTypeToJSON(event.type).replace('SECURITY_EVENT_TYPE_', '');
}

/** The documents of the event log (`mfa_security_events`) of these users, in position order. */
export async function loggedEvents(
  mongo: MongoClient,
  db: string,
  userIds: Iterable<string>,
): Promise<Array<{ _id: string; userId: string; type: string; position: number; requestId: string }>> {
  return mongo
    .db(db)
    .collection<{ _id: string; userId: string; type: string; position: number; requestId: string }>('mfa_security_events')
    .find({ userId: { $in: [...userIds] } })
    .sort({ position: 1 })
    .toArray();
}

/** The events still waiting in these users' outboxes (`mfa_factors.outbox`), by user. */
export async function outboxEntries(mongo: MongoClient, db: string, userIds: Iterable<string>): Promise<Map<string, unknown[]>> {
  const docs = await mongo
    .db(db)
    .collection<{ _id: string; outbox?: unknown[] }>('mfa_factors')
    .find({ _id: { $in: [...userIds] } }, { projection: { outbox: 1 } })
    .toArray();
  return new Map(docs.filter((d) => (d.outbox ?? []).length > 0).map((d) => [d._id, d.outbox!]));
}

/**
 * A WatchSecurityEvents call from a client that never reads: raw HTTP/2 with a
 * 1 KiB stream flow-control window that it never opens, so the server can
 * have at most about 1 KiB of events in flight (a handful). See stalled-stream.ts.
 */
export function openStalledSecurityEventWatch(
  port: number,
  request: Partial<WatchSecurityEventsRequest>,
  headers: { token: string; requestId: string },
): { close(): Promise<void> } {
  const body = WatchSecurityEventsRequest.encode(WatchSecurityEventsRequest.fromPartial(request)).finish();
  return openStalledStream(port, 'WatchSecurityEvents', body, { authorization: `Bearer ${headers.token}`, 'x-request-id': headers.requestId });
}
