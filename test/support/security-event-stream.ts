import { connect, constants } from 'node:http2';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { MongoClient } from 'mongodb';
import {
  MfaServiceClient,
  securityEventTypeToJSON,
  WatchSecurityEventsRequest,
  type SecurityEvent,
  type WatchSecurityEventsResponse,
} from '../../src/gen/mfa/v1/mfa.js';
import type { StreamEnd } from './watch-client.js';

/** A WatchSecurityEvents call through the generated client, read as its messages come. */
export interface SecurityEventWatch {
  /** Every message received so far, in order (the client reads ahead of what next() took). */
  readonly messages: WatchSecurityEventsResponse[];
  /** The next message not yet taken; rejects when the stream ends, or nothing comes within `timeoutMs`. */
  next(timeoutMs?: number): Promise<WatchSecurityEventsResponse>;
  /** The next event, skipping heartbeats. */
  nextEvent(timeoutMs?: number): Promise<SecurityEvent>;
  /** Resolves when the stream has ended, however it did. */
  readonly ended: Promise<StreamEnd>;
  cancel(): void;
  close(): void;
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
  const messages: WatchSecurityEventsResponse[] = [];
  let taken = 0;
  let wake: (() => void) | null = null;
  let finished = false;
  const ended = new Promise<StreamEnd>((resolve) => {
    call.on('error', (error: ServiceError) => resolve({ code: error.code, error }));
    call.on('status', (s: { code: status }) => {
      if (s.code === status.OK) resolve({ code: status.OK, error: null });
    });
  });
  void ended.then(() => {
    finished = true;
    wake?.();
  });
  call.on('data', (message: WatchSecurityEventsResponse) => {
    messages.push(message);
    wake?.();
  });
  const next = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (taken >= messages.length) {
      if (finished) {
        const end = await ended;
        throw new Error(`the stream ended ${status[end.code]} (${end.error?.details ?? ''}) after ${messages.length} message(s)`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms (after ${messages.length} message(s))`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
    return messages[taken++]!;
  };
  return {
    messages,
    ended,
    next,
    nextEvent: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = await next(Math.max(1, deadline - Date.now()));
        if (message.event !== undefined) return message.event;
      }
    },
    cancel: () => call.cancel(),
    close: () => client.close(),
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
  const session = connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1024 } });
  session.on('error', () => {});
  const body = WatchSecurityEventsRequest.encode(WatchSecurityEventsRequest.fromPartial(request)).finish();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  const stream = session.request({
    ':method': 'POST',
    ':path': '/mfa.v1.MfaService/WatchSecurityEvents',
    'content-type': 'application/grpc',
    te: 'trailers',
    authorization: `Bearer ${headers.token}`,
    'x-request-id': headers.requestId,
  });
  stream.on('error', () => {});
  stream.end(Buffer.concat([prefix, body]));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        stream.close(constants.NGHTTP2_CANCEL, () => {
          session.destroy();
          resolve();
        });
      }),
  };
}
