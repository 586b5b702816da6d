import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { runInCallScope } from '../call-scope.js';
import { ErrorReason, hasReason, MfaError } from '../domain/errors.js';
import type { AuditService } from '../services/audit-service.js';
import type { CallerAuthenticator } from './caller-tokens.js';
import { toServiceError } from './error-status.js';
import type { RpcMetrics } from './rpc-metrics.js';
import { UndecodableRequest } from './request-decoding.js';
import { assertPoliciesCoverService, type RpcName, type RpcPolicies, type RpcPolicy } from './rpc-policies.js';
import { invalidRequest } from './validation.js';

export interface UnaryDeps {
  readonly serviceName: string;
  readonly logger: Logger;
  /** Null when MFA_AUTH_TOKENS is not set: every caller is anonymous. */
  readonly authenticator: CallerAuthenticator | null;
  readonly adminCallers: ReadonlySet<string>;
  readonly audit: AuditService;
  readonly metrics: RpcMetrics;
  /** Access, auditing and metrics of each RPC (RPC_POLICIES); must cover every MfaService method. */
  readonly policies: RpcPolicies;
}

const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// The client's own deadline timer cancels the call about when the server's fires; which comes
// first depends on scheduling, so an end this close to the deadline counts as the deadline.
const DEADLINE_SLACK_MS = 100;
const CODE_CHECK_EVENTS: Partial<Record<ErrorReason, string>> = {
  INVALID_CODE: 'code_check.failed',
  CODE_REUSED: 'code_check.replayed',
  LOCKED_OUT: 'code_check.locked_out',
};

export type Unary = <Req, Res>(method: RpcName, handle: (request: Req) => Promise<Res>) => handleUnaryCall<Req, Res>;

/**
 * The middleware every MfaService call goes through, in order: request id
 * (from `x-request-id`, or made, and returned in the response headers, or a
 * failure's trailers), caller authentication and admin check (per
 * RPC_POLICIES), the request's wire checks, a call scope that ends the work
 * when the client cancels or the deadline passes, then the handler; afterwards
 * one status mapping, the audit event, metrics and one log line. Request and
 * response bodies are never logged: they carry codes, secrets and tokens.
 */
export function createUnary(deps: UnaryDeps): Unary {
  assertPoliciesCoverService(deps.policies);
  return <Req, Res>(method: RpcName, handle: (request: Req) => Promise<Res>) => {
    const policy = deps.policies[method] as unknown as RpcPolicy<Req, Res>;
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = process.hrtime.bigint();
      // The call's span, when tracing is on (src/tracing/): its ids go into the log line.
      const span = trace.getActiveSpan()?.spanContext();
      const traceIds = span === undefined ? {} : { trace_id: span.traceId, span_id: span.spanId };
      const offered = call.metadata.get(REQUEST_ID_HEADER)[0];
      const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();

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
      const run = async (): Promise<Res> => {
        caller = authenticate(deps, call.metadata, policy.access === 'admin');
        // Bytes that break the proto's rules (request-decoding.ts) arrive here in place of a request.
        if (call.request instanceof UndecodableRequest) throw invalidRequest(call.request.violations);
        return runInCallScope(ended.signal, () => handle(call.request));
      };

      const finish = async (code: status, reason: ErrorReason | null, error?: unknown) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const userId = (call.request as { userId?: unknown }).userId;
        const auditBase = { userId: typeof userId === 'string' ? userId : '', caller, requestId };
        const failedCheck = reason === null ? undefined : CODE_CHECK_EVENTS[reason];
        if (failedCheck !== undefined) await deps.audit.record({ ...auditBase, event: failedCheck, outcome: 'failure', detail: `${method}: ${reason}` });
        if (policy.checksCode && (reason === null || failedCheck !== undefined)) deps.metrics.verification(method, reason ?? 'success');
        deps.metrics.handled(deps.serviceName, method, status[code], seconds, caller);
        const level = code === status.INTERNAL ? 'error' : code === status.UNAVAILABLE ? 'warn' : 'info';
        const fields = { method, requestId, caller, grpcCode: status[code], durationMs: Math.round(seconds * 1e6) / 1e3, ...traceIds };
        const logged = reason === null ? fields : { ...fields, reason, ...(level === 'info' ? {} : { err: error }) };
        deps.logger[level](logged, 'rpc');
      };

      let answered = false;
      const answer = (error: ServiceError | null, response?: Res) => {
        answered = true;
        call.removeListener('cancelled', onCancelled);
        // The request id goes with the answer: a failure's in its trailers, and no headers before it,
        // since a client commits to a call once headers arrive and would not retry an UNAVAILABLE read.
        if (error) {
          error.metadata?.set(REQUEST_ID_HEADER, requestId);
          callback(error);
        } else {
          const headers = new Metadata();
          headers.set(REQUEST_ID_HEADER, requestId);
          call.sendMetadata(headers);
          callback(null, response);
        }
      };
      run()
        .then(
          async (response) => {
            const fact = policy.audit?.(call.request, response) ?? null;
            if (fact !== null) {
              const userId = (call.request as { userId: string }).userId;
              await deps.audit.record({ userId, caller, requestId, outcome: 'success', event: fact.event, detail: fact.detail ?? '' });
            }
            policy.onSuccess?.(deps.metrics);
            await finish(status.OK, null);
            answer(null, response);
          },
          async (error: unknown) => {
            const serviceError = toServiceError(
              endedByDeadline && hasReason(error, ErrorReason.CALL_ENDED)
                ? new MfaError(ErrorReason.DEADLINE_EXCEEDED, 'the deadline passed; the work stopped', { cause: error })
                : error,
            );
            await finish(serviceError.code, serviceError.reason, error);
            answer(serviceError);
          },
        )
        // The bookkeeping after the handler must never leave a call unanswered or reject unhandled.
        .catch((error: unknown) => {
          deps.logger.error({ err: error, method, requestId }, 'rpc bookkeeping failed');
          if (!answered) answer(toServiceError(error));
        });
    };
  };
}

/** The caller's name; throws UNAUTHENTICATED or ADMIN_REQUIRED. */
function authenticate(deps: UnaryDeps, metadata: Metadata, admin: boolean): string {
  let caller = '';
  if (deps.authenticator !== null) {
    const header = metadata.get('authorization')[0];
    const found = deps.authenticator.authenticate(typeof header === 'string' ? header : undefined);
    if (found === null) {
      throw new MfaError(ErrorReason.UNAUTHENTICATED, 'missing or unknown bearer token (authorization: Bearer <token>)');
    }
    caller = found;
  }
  if (admin && !deps.adminCallers.has(caller)) {
    throw new MfaError(ErrorReason.ADMIN_REQUIRED, 'this RPC is for the callers named in MFA_ADMIN_CALLERS');
  }
  return caller;
}

/** True when a call's deadline (a Date, a time in ms, or Infinity for none) has passed, or nearly. */
function deadlinePassed(deadline: Date | number): boolean {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && Date.now() >= at - DEADLINE_SLACK_MS;
}
