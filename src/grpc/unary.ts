import { randomUUID } from 'node:crypto';
import { Metadata, status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ErrorReason } from '../domain/errors.js';
import { toServiceError } from './error-status.js';

/** What a handler knows of its call besides the request. */
export interface CallContext {
  readonly requestId: string;
  readonly logger: Logger;
}

const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Wraps one handler: takes the request id from `x-request-id` (or makes one)
 * and returns it in the response headers, maps any thrown value to a status,
 * and writes one log line per call. Request and response bodies are never
 * logged: they carry codes, secrets and tokens.
 */
export function unary<Req, Res>(
  method: string,
  logger: Logger,
  handle: (request: Req, context: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = process.hrtime.bigint();
    const offered = call.metadata.get(REQUEST_ID_HEADER)[0];
    const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
    const callLogger = logger.child({ method, requestId });
    const headers = new Metadata();
    headers.set(REQUEST_ID_HEADER, requestId);
    call.sendMetadata(headers);

    const finish = (code: status, fields: Record<string, unknown> = {}) => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const level = code === status.INTERNAL ? 'error' : code === status.UNAVAILABLE ? 'warn' : 'info';
      callLogger[level]({ grpcCode: status[code], durationMs: Math.round(durationMs * 1000) / 1000, ...fields }, 'rpc');
    };

    handle(call.request, { requestId, logger: callLogger }).then(
      (response) => {
        finish(status.OK);
        callback(null, response);
      },
      (error: unknown) => {
        const serviceError = toServiceError(error);
        const cause = serviceError.reason === ErrorReason.INTERNAL || serviceError.reason === ErrorReason.STORE_UNAVAILABLE;
        finish(serviceError.code, { reason: serviceError.reason, ...(cause ? { err: error } : {}) });
        callback(serviceError);
      },
    );
  };
}
