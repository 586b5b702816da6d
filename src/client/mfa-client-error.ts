import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo, RetryInfo } from '../gen/google/rpc/error_details.js';
import { Status } from '../gen/google/rpc/status.js';

/** A request field the service refused (from a google.rpc.BadRequest). */
export interface FieldViolation {
  /** The request field, e.g. `user_id`. */
  readonly field: string;
  readonly description: string;
}

/**
 * A failed call, with the error details the service sends in the
 * grpc-status-details-bin trailer decoded: the ErrorInfo reason (see the
 * proto and the README's "Errors"), BadRequest field violations and the
 * RetryInfo delay. Errors that did not come from the service (a deadline, a
 * connection failure) have the status code only.
 */
export class MfaClientError extends Error {
  override readonly name = 'MfaClientError';
  /** The gRPC status code, e.g. `status.PERMISSION_DENIED` (7). */
  readonly code: status;
  /** The service's ErrorInfo reason, e.g. `INVALID_CODE`; null when there is none. */
  readonly reason: string | null;
  /** For INVALID_ARGUMENT (INVALID_REQUEST): every bad field. */
  readonly fieldViolations: readonly FieldViolation[];
  /** For RESOURCE_EXHAUSTED (LOCKED_OUT): how long until codes are checked again, in ms; else null. */
  readonly retryDelayMs: number | null;
  /** The service's x-request-id of the call (it is in the service's log line), when it answered. */
  readonly requestId: string | null;
  /** The trailers as received. */
  readonly metadata: Metadata;

  constructor(error: ServiceError) {
    super(error.details || error.message, { cause: error });
    this.code = error.code;
    this.metadata = error.metadata ?? new Metadata();
    const requestId = this.metadata.get('x-request-id')[0];
    this.requestId = typeof requestId === 'string' ? requestId : null;
    let reason: string | null = null;
    const fieldViolations: FieldViolation[] = [];
    let retryDelayMs: number | null = null;
    const raw = this.metadata.get('grpc-status-details-bin')[0];
    if (raw instanceof Buffer) {
      for (const detail of Status.decode(raw).details) {
        const type = detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1);
        if (type === 'google.rpc.ErrorInfo') reason = ErrorInfo.decode(detail.value).reason;
        if (type === 'google.rpc.BadRequest') {
          for (const v of BadRequest.decode(detail.value).fieldViolations) fieldViolations.push({ field: v.field, description: v.description });
        }
        if (type === 'google.rpc.RetryInfo') {
          const delay = RetryInfo.decode(detail.value).retryDelay;
          if (delay !== undefined) retryDelayMs = delay.seconds * 1000 + Math.round(delay.nanos / 1e6);
        }
      }
    }
    this.reason = reason;
    this.fieldViolations = fieldViolations;
    this.retryDelayMs = retryDelayMs;
  }
}
