import { status, type handleServerStreamingCall, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { runInCallScope } from '../call-scope.js';
import { ErrorReason, MfaError } from '../domain/errors.js';
import { toServiceError } from './error-status.js';
import type { OpenStreams, StreamSlot } from './open-streams.js';
import { startRpcCall, type RpcDeps } from './rpc-call.js';
import { assertPoliciesCoverService, type RpcName } from './rpc-policies.js';

/** What a stream handler writes with. */
export interface StreamWriter<Res> {
  /** Sends one message; resolves once the transport has taken it; rejects CALL_ENDED once the stream has to end. */
  send(message: Res): Promise<void>;
  /** Aborts when the stream has to end: the client cancelled, the deadline passed, or the instance is shutting down. */
  readonly signal: AbortSignal;
}

/** A handler returns how its stream ended (for the log line), or throws the status to end it with. */
export type ServerStream = <Req, Res>(
  method: RpcName,
  handle: (request: Req, stream: StreamWriter<Res>) => Promise<string>,
) => handleServerStreamingCall<Req, Res>;

/**
 * The middleware of server-streaming MfaService calls: what unary calls get
 * (request id, caller authentication, the request's wire checks, a call scope,
 * one status mapping, metrics and one log line per stream, saying how it ended
 * and how many messages it sent; the policy's metrics per message), and what streams need besides: a slot among the instance's
 * `streams` (RESOURCE_EXHAUSTED / STREAM_LIMIT when none is free), a write
 * that waits for the transport, and UNAVAILABLE / SHUTTING_DOWN when the
 * instance stops.
 */
export function createServerStream(deps: RpcDeps & { readonly streams: OpenStreams }): ServerStream {
  assertPoliciesCoverService(deps.policies);
  return <Req, Res>(method: RpcName, handle: (request: Req, stream: StreamWriter<Res>) => Promise<string>) =>
    (call: ServerWritableStream<Req, Res>) => {
      const rpc = startRpcCall<Req, Res>(deps, method, 'server_stream', call);
      let slot: StreamSlot | null = null;
      let messages = 0;
      const run = async (): Promise<string> => {
        const request = rpc.admit();
        slot = deps.streams.admit();
        rpc.sendHeaders();
        deps.metrics.streams(method, 1);
        const signal = AbortSignal.any([rpc.ended, slot.shutdown]);
        const send = async (message: Res) => {
          await write(call, message, signal);
          messages += 1;
          deps.metrics.sent(deps.serviceName, method);
          rpc.succeeded(message);
        };
        return runInCallScope({ signal, ...rpc.actor() }, () => handle(request, { send, signal }));
      };

      /** Ends the call, once, with the status its end calls for. */
      const end = async (outcome: string | null, error?: unknown) => {
        let failure: (ServiceError & { reason: ErrorReason }) | null = null;
        if (slot?.shutdown.aborted) {
          failure = rpc.withRequestId(toServiceError(new MfaError(ErrorReason.SHUTTING_DOWN, 'this instance is shutting down; call again', { cause: error })));
        } else if (rpc.ended.aborted) {
          // The client has gone (CANCELLED) or the deadline passed: this status is for the log only.
          failure = rpc.statusOf(error ?? new MfaError(ErrorReason.CALL_ENDED, 'the call was cancelled or its deadline passed'));
        } else if (outcome === null) {
          failure = rpc.statusOf(error);
        }
        rpc.finish(failure?.code ?? status.OK, failure?.reason ?? null, error, { ...(outcome === null ? {} : { outcome }), messages });
        rpc.detach();
        if (failure === null) call.end();
        else call.emit('error', failure);
      };

      let ended = false;
      run()
        .then(
          (outcome) => end(outcome),
          (error: unknown) => end(null, error),
        )
        .then(() => (ended = true))
        // The bookkeeping after the handler must never leave a stream open or reject unhandled.
        .catch((error: unknown) => {
          deps.logger.error({ err: error, method, requestId: rpc.requestId }, 'rpc bookkeeping failed');
          if (!ended) call.emit('error', rpc.withRequestId(toServiceError(error)));
        })
        .finally(() => {
          if (slot === null) return;
          slot.release();
          deps.metrics.streams(method, -1);
        });
    };
}

/**
 * Writes one message and waits for the transport to take it (the write's
 * callback: HTTP/2 flow control let it through). That is stricter than waiting
 * for 'drain' when write() returns false, which grpc-js does only with 16
 * messages buffered: a client that stops reading holds at most one message of
 * ours, and the handler makes nothing new meanwhile. grpc-js never calls back
 * for a call that ended, so the end of the stream (`signal`) settles it then.
 */
function write<Res>(call: ServerWritableStream<unknown, Res>, message: Res, signal: AbortSignal): Promise<void> {
  const ended = () => new MfaError(ErrorReason.CALL_ENDED, 'the stream ended');
  if (signal.aborted) return Promise.reject(ended());
  return new Promise<void>((resolve, reject) => {
    const onEnd = () => reject(ended());
    signal.addEventListener('abort', onEnd, { once: true });
    call.write(message, (error?: Error | null) => {
      signal.removeEventListener('abort', onEnd);
      if (error) reject(error);
      else resolve();
    });
  });
}
