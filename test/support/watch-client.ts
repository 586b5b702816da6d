import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { MfaServiceClient, WatchTotpEnrollmentRequest, type WatchTotpEnrollmentResponse } from '../../src/gen/mfa/v1/mfa.js';

/** How a stream ended: OK, or the error the client got. */
export interface StreamEnd {
  readonly code: status;
  readonly error: ServiceError | null;
}

/** A server-streaming call through the generated client, read as its messages come. */
export interface StreamReader<T> {
  /** Every message received so far, in order (the client reads ahead of what next() took). */
  readonly messages: T[];
  /** The next message not yet taken; rejects when the stream ends without one, or nothing comes within `timeoutMs`. */
  next(timeoutMs?: number): Promise<T>;
  /** Resolves when the stream has ended, however it did. */
  readonly ended: Promise<StreamEnd>;
  cancel(): void;
  close(): void;
}

export type WatchCall = StreamReader<WatchTotpEnrollmentResponse>;

/** Reads `call` as its messages come; `close` closes the client it was made on. */
export function readStream<T>(call: ClientReadableStream<T>, close: () => void): StreamReader<T> {
  const messages: T[] = [];
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
  call.on('data', (message: T) => {
    messages.push(message);
    wake?.();
  });
  return {
    messages,
    ended,
    next: async (timeoutMs = 30_000) => {
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
    },
    cancel: () => call.cancel(),
    close,
  };
}

export function watchEnrollment(
  port: number,
  request: Partial<WatchTotpEnrollmentRequest>,
  options: { metadata?: Metadata; deadlineMs?: number } = {},
): WatchCall {
  const client = new MfaServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.watchTotpEnrollment(WatchTotpEnrollmentRequest.fromPartial(request), options.metadata ?? new Metadata(), {
    deadline: Date.now() + (options.deadlineMs ?? 60_000),
  });
  return readStream(call, () => client.close());
}
