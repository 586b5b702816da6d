import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { Metadata, status, type ServerUnaryCall, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CallActor } from '../call-scope.js';
import { ErrorReason, hasReason, MfaError } from '../domain/errors.js';
import type { CallerAuthenticator } from './caller-tokens.js';
import { toServiceError } from './error-status.js';
import type { RpcMetrics, RpcType } from './rpc-metrics.js';
import { UndecodableRequest } from './request-decoding.js';
import type { RpcName, RpcPolicies, RpcPolicy } from './rpc-policies.js';
import { invalidRequest } from './validation.js';

/** What the middleware of every MfaService call needs (unary.ts, server-stream.ts). */
export interface RpcDeps {
  readonly serviceName: string;
  readonly logger: Logger;
  /** Null when MFA_AUTH_TOKENS is not set: every caller is anonymous. */
  readonly authenticator: CallerAuthenticator | null;
  readonly adminCallers: ReadonlySet<string>;
  /** Callers allowed WatchSecurityEvents besides the admin callers (MFA_EVENT_CALLERS). */
  readonly eventCallers: ReadonlySet<string>;
  readonly metrics: RpcMetrics;
  /** Access and metrics of each RPC (RPC_POLICIES); must cover every MfaService method. */
  readonly policies: RpcPolicies;
}

/** One call as the middleware sees it, from its start to its one log line. */
export interface RpcCall<Req, Res> {
  readonly requestId: string;
  /** Aborts when the client cancels or the call's deadline passes. */
  readonly ended: AbortSignal;
  /** Authenticates the caller (per RPC_POLICIES) and checks the request's wire rules; returns the request, or throws. */
  admit(): Req;
  /** The caller (once admitted) and the request id, for the call's scope: its security events record them. */
  actor(): CallActor;
  /** Records what the policy says about a success (metrics): once per unary call, once per message of a stream. */
  succeeded(response: Res): void;
  /**
   * The status a handler's error becomes (work stopped by the deadline is
   * DEADLINE_EXCEEDED, not CANCELLED), with the request id in its trailers.
   */
  statusOf(error: unknown): ServiceError & { reason: ErrorReason };
  /** Puts the request id in a failure's trailers: no headers went out before it. */
  withRequestId<E extends ServiceError>(error: E): E;
  /**
   * Sends the response headers (`x-request-id`), once: a unary call's with its
   * answer, a stream's before its first message. Not earlier: a client
   * commits to a call once headers arrive, and would not retry an UNAVAILABLE read.
   */
  sendHeaders(): void;
  /** Records the end: metrics, and one log line with `fields` added. */
  finish(code: status, reason: ErrorReason | null, error?: unknown, fields?: Readonly<Record<string, unknown>>): void;
  /** Stops watching for the call's end; once its answer is sent. */
  detach(): void;
}

const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// The client's own deadline timer cancels the call about when the server's fires; which comes
// first depends on scheduling, so an end this close to the deadline counts as the deadline.
const DEADLINE_SLACK_MS = 100;
// The outcomes of a code check that count in mfa_verifications_total besides success.
const CODE_CHECK_FAILURES: ReadonlySet<ErrorReason> = new Set([
  ErrorReason.INVALID_CODE,
  ErrorReason.CODE_REUSED,
  ErrorReason.LOCKED_OUT,
  ErrorReason.TOTP_SUSPENDED,
  ErrorReason.WEBAUTHN_INVALID,
  ErrorReason.CHALLENGE_NOT_FOUND,
]);

/**
 * Starts the middleware's part of a call: the request id (from `x-request-id`,
 * or made; returned in the response headers or a failure's trailers), the
 * trace ids for its log line when tracing is on (src/tracing/), and the
 * signal of its end. Request and response bodies are never logged: they
 * carry codes, secrets and tokens.
 */
export function startRpcCall<Req, Res>(
  deps: RpcDeps,
  method: RpcName,
  type: RpcType,
  call: ServerUnaryCall<Req, Res> | ServerWritableStream<Req, Res>,
): RpcCall<Req, Res> {
  const policy = deps.policies[method] as unknown as RpcPolicy<Req, Res>;
  const started = process.hrtime.bigint();
  const offered = call.metadata.get(REQUEST_ID_HEADER)[0];
  const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
  const span = trace.getActiveSpan()?.spanContext();
  const traceIds = span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId };
  let headersSent = false;
  const withRequestId = <E extends ServiceError>(error: E): E => {
    error.metadata?.set(REQUEST_ID_HEADER, requestId);
    return error;
  };

  const ended = new AbortController();
  let endedByDeadline = false;
  // grpc-js emits 'cancelled' when any call's stream closes, finished or not: the listener goes
  // before the response is sent, so a finished call does not build an AbortError for nothing.
  const onCancelled = () => {
    endedByDeadline = deadlinePassed(call.getDeadline());
    ended.abort();
  };
  if (call.cancelled) onCancelled();
  call.once('cancelled', onCancelled);

  let caller = '';
  return {
    requestId,
    ended: ended.signal,
    admit: () => {
      caller = authenticate(deps, call.metadata, policy.access);
      // Bytes that break the proto's rules (request-decoding.ts) arrive here in place of a request.
      if (call.request instanceof UndecodableRequest) throw invalidRequest(call.request.violations);
      return call.request;
    },
    actor: () => ({ caller, requestId }),
    succeeded: (response) => {
      policy.onSuccess?.(deps.metrics, response);
    },
    statusOf: (error) =>
      withRequestId(
        toServiceError(
          endedByDeadline && hasReason(error, ErrorReason.CALL_ENDED)
            ? new MfaError(ErrorReason.DEADLINE_EXCEEDED, 'the deadline passed; the work stopped', { cause: error })
            : error,
        ),
      ),
    withRequestId,
    sendHeaders: () => {
      if (headersSent) return;
      headersSent = true;
      const headers = new Metadata();
      headers.set(REQUEST_ID_HEADER, requestId);
      call.sendMetadata(headers);
    },
    finish: (code, reason, error, fields = {}) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (policy.checksCode && (reason === null || CODE_CHECK_FAILURES.has(reason))) deps.metrics.verification(method, reason ?? 'success');
      deps.metrics.handled(type, deps.serviceName, method, status[code], seconds, caller);
      const level = code === status.INTERNAL ? 'error' : code === status.UNAVAILABLE ? 'warn' : 'info';
      const logged = { method, requestId, caller, grpcCode: status[code], durationMs: Math.round(seconds * 1e6) / 1e3, ...traceIds, ...fields };
      deps.logger[level](reason === null ? logged : { ...logged, reason, ...(level === 'info' ? {} : { err: error }) }, 'rpc');
    },
    detach: () => void call.removeListener('cancelled', onCancelled),
  };
}

/** The caller's name; throws UNAUTHENTICATED, ADMIN_REQUIRED or EVENT_CALLER_REQUIRED. */
function authenticate(deps: RpcDeps, metadata: Metadata, access: RpcPolicy<unknown, unknown>['access']): string {
  let caller = '';
  if (deps.authenticator !== null) {
    const header = metadata.get('authorization')[0];
    const found = deps.authenticator.authenticate(typeof header === 'string' ? header : undefined);
    if (found === null) {
      throw new MfaError(ErrorReason.UNAUTHENTICATED, 'missing or unknown bearer token (authorization: Bearer <token>)');
    }
    caller = found;
  }
  if (access === 'admin' && !deps.adminCallers.has(caller)) {
    throw new MfaError(ErrorReason.ADMIN_REQUIRED, 'this RPC is for the callers named in MFA_ADMIN_CALLERS');
  }
  if (access === 'events' && !deps.eventCallers.has(caller) && !deps.adminCallers.has(caller)) {
    throw new MfaError(ErrorReason.EVENT_CALLER_REQUIRED, 'this RPC is for the callers named in MFA_EVENT_CALLERS or MFA_ADMIN_CALLERS');
  }
  return caller;
}

/** True when a call's deadline (a Date, a time in ms, or Infinity for none) has passed, or nearly. */
function deadlinePassed(deadline: Date | number): boolean {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && Date.now() >= at - DEADLINE_SLACK_MS;
}
