import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { MfaServiceClient, WatchTotpEnrollmentRequest, type WatchTotpEnrollmentResponse } from '../../src/gen/mfa/v1/mfa.js';

/** How a stream ended: OK, or the error the client got. */
export interface StreamEnd {
  readonly code: status;
  readonly error: ServiceError | null;
}

/** A WatchTotpEnrollment call through the generated client, read as its messages come. */
export interface WatchCall {
  /** Every message so far, in order. */
  readonly messages: WatchTotpEnrollmentResponse[];
  /** The next message not yet taken by next(); rejects when the stream ends without one. */
  next(): Promise<WatchTotpEnrollmentResponse>;
  /** Resolves when the stream has ended, however it did. */
  readonly ended: Promise<StreamEnd>;
  cancel(): void;
  close(): void;
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
  const messages: WatchTotpEnrollmentResponse[] = [];
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
  call.on('data', (message: WatchTotpEnrollmentResponse) => {
    messages.push(message);
    wake?.();
  });
  return {
    messages,
    ended,
    next: async () => {
      while (taken >= messages.length) {
        if (finished) throw new Error(`the stream ended after ${messages.length} message(s): ${JSON.stringify(await ended, (k, v) => (k === 'metadata' ? undefined : v))}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return messages[taken++]!;
    },
    cancel: () => call.cancel(),
    close: () => client.close(),
  };
}
