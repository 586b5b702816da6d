import { connect, constants } from 'node:http2';
import { WatchTotpEnrollmentRequest } from '../../src/gen/mfa/v1/mfa.js';

/**
 * A server-streaming MfaService call from a client that never reads: raw
 * HTTP/2 with a 1 KiB flow-control window that it never opens, so the server
 * can have at most 1 KiB of messages in flight. What the generated client
 * cannot do: it reads (and buffers) 16 messages before it pushes back.
 */
export function openStalledStream(port: number, method: string, body: Uint8Array, headers: Record<string, string>): { close(): Promise<void> } {
  const session = connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 1024 } });
  session.on('error', () => {});
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  const stream = session.request({
    ':method': 'POST',
    ':path': `/mfa.v1.MfaService/${method}`,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  stream.on('error', () => {});
  stream.end(Buffer.concat([prefix, body]));
  return {
    /** Cancels the call (RST_STREAM CANCEL, as a client that gives up) and drops the connection. */
    close: () =>
      new Promise<void>((resolve) => {
        stream.close(constants.NGHTTP2_CANCEL, () => {
          session.destroy();
          resolve();
        });
      }),
  };
}

/** A stalled WatchTotpEnrollment: the server cannot send even its first message (an enrollment is several KiB) in full. */
export function openStalledWatch(port: number, request: Partial<WatchTotpEnrollmentRequest>, requestId: string): { close(): Promise<void> } {
  const body = WatchTotpEnrollmentRequest.encode(WatchTotpEnrollmentRequest.fromPartial(request)).finish();
  return openStalledStream(port, 'WatchTotpEnrollment', body, { 'x-request-id': requestId });
}
