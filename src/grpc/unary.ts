import { status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData, type ServiceError } from '@grpc/grpc-js';
import { runInCallScope } from '../call-scope.js';
import { toServiceError } from './error-status.js';
import { startRpcCall, type RpcDeps } from './rpc-call.js';
import { assertPoliciesCoverService, type RpcName } from './rpc-policies.js';

export type Unary = <Req, Res>(method: RpcName, handle: (request: Req) => Promise<Res>) => handleUnaryCall<Req, Res>;

/**
 * The middleware every unary MfaService call goes through, in order: request
 * id (returned with the answer: headers, or a failure's trailers), caller authentication and admin check (per RPC_POLICIES), the request's
 * wire checks (rpc-call.ts), a call scope that ends the work when the client
 * cancels or the deadline passes, then the handler; afterwards one status
 * mapping, metrics and one log line. (Security events are the services' to
 * write, with their changes.)
 */
export function createUnary(deps: RpcDeps): Unary {
  assertPoliciesCoverService(deps.policies);
  return <Req, Res>(method: RpcName, handle: (request: Req) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const rpc = startRpcCall<Req, Res>(deps, method, 'unary', call);
      let answered = false;
      const logFields: Record<string, unknown> = {};
      const answer = (error: ServiceError | null, response?: Res) => {
        answered = true;
        rpc.detach();
        if (error) {
          callback(error);
        } else {
          rpc.sendHeaders();
          callback(null, response);
        }
      };
      const run = async (): Promise<Res> => {
        const request = rpc.admit();
        return runInCallScope({ signal: rpc.ended, ...rpc.actor(), logFields }, () => handle(request));
      };
      run()
        .then(
          (response) => {
            rpc.succeeded(response);
            rpc.finish(status.OK, null, undefined, logFields);
            answer(null, response);
          },
          (error: unknown) => {
            const serviceError = rpc.statusOf(error);
            rpc.finish(serviceError.code, serviceError.reason, error, logFields);
            answer(serviceError);
          },
        )
        // The bookkeeping after the handler must never leave a call unanswered or reject unhandled.
        .catch((error: unknown) => {
          deps.logger.error({ err: error, method, requestId: rpc.requestId }, 'rpc bookkeeping failed');
          if (!answered) answer(rpc.withRequestId(toServiceError(error)));
        });
    };
}
