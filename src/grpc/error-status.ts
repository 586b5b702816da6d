import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorReason, MfaError } from '../domain/errors.js';
import { Any } from '../gen/google/protobuf/any.js';
import { BadRequest, ErrorInfo, RetryInfo } from '../gen/google/rpc/error_details.js';
import { Status } from '../gen/google/rpc/status.js';

export const ERROR_DOMAIN = 'mfa.v1';

/** The one place where an error reason becomes a gRPC status code. */
export const STATUS_BY_REASON: Readonly<Record<ErrorReason, status>> = {
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  INVALID_CODE: status.PERMISSION_DENIED,
  CODE_REUSED: status.PERMISSION_DENIED,
  LOCKED_OUT: status.RESOURCE_EXHAUSTED,
  MFA_NOT_ENABLED: status.FAILED_PRECONDITION,
  MFA_ALREADY_ENABLED: status.ALREADY_EXISTS,
  ENROLLMENT_NOT_FOUND: status.NOT_FOUND,
  DEVICE_NOT_FOUND: status.NOT_FOUND,
  AUTHENTICATOR_LIMIT: status.FAILED_PRECONDITION,
  AUTHENTICATOR_NOT_FOUND: status.NOT_FOUND,
  LAST_AUTHENTICATOR: status.FAILED_PRECONDITION,
  STORE_UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  ADMIN_REQUIRED: status.PERMISSION_DENIED,
  CALL_ENDED: status.CANCELLED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  STREAM_LIMIT: status.RESOURCE_EXHAUSTED,
  EVENT_CALLER_REQUIRED: status.PERMISSION_DENIED,
  CURSOR_EXPIRED: status.FAILED_PRECONDITION,
  SHUTTING_DOWN: status.UNAVAILABLE,
  TOTP_SUSPENDED: status.FAILED_PRECONDITION,
  ASSERTIONS_NOT_CONFIGURED: status.FAILED_PRECONDITION,
  ASSERTION_ALREADY_USED: status.FAILED_PRECONDITION,
  ASSERTION_REVOKED: status.FAILED_PRECONDITION,
  CALLER_NOT_AUDIENCE: status.PERMISSION_DENIED,
  WEBAUTHN_NOT_CONFIGURED: status.FAILED_PRECONDITION,
  CHALLENGE_NOT_FOUND: status.NOT_FOUND,
  CREDENTIAL_IN_USE: status.ALREADY_EXISTS,
  WEBAUTHN_INVALID: status.PERMISSION_DENIED,
};

const INTERNAL_MESSAGE = 'internal error';

/**
 * Turns anything thrown by a handler into the status sent to the caller, with
 * a google.rpc.Status (ErrorInfo, and BadRequest or RetryInfo where they apply)
 * in the grpc-status-details-bin trailer. Anything that is not an MfaError
 * becomes INTERNAL with a fixed message: its cause is for the log only.
 */
export function toServiceError(error: unknown): ServiceError & { reason: ErrorReason } {
  const known = error instanceof MfaError && error.reason !== ErrorReason.INTERNAL ? error : null;
  const reason = known?.reason ?? ErrorReason.INTERNAL;
  const code = STATUS_BY_REASON[reason];
  const message = known?.message ?? INTERNAL_MESSAGE;
  const details: Any[] = [
    pack('google.rpc.ErrorInfo', ErrorInfo.encode({ reason, domain: ERROR_DOMAIN, metadata: {} }).finish()),
  ];
  if (known && known.fieldViolations.length > 0) {
    const fieldViolations = known.fieldViolations.map((v) => ({ ...v, reason: '', localizedMessage: undefined }));
    details.push(pack('google.rpc.BadRequest', BadRequest.encode({ fieldViolations }).finish()));
  }
  if (known?.retryAfterMs !== undefined) {
    const seconds = Math.floor(known.retryAfterMs / 1000);
    const nanos = (known.retryAfterMs % 1000) * 1_000_000;
    details.push(pack('google.rpc.RetryInfo', RetryInfo.encode({ retryDelay: { seconds, nanos } }).finish()));
  }
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(Status.encode({ code, message, details }).finish()));
  return Object.assign(new Error(message), { code, details: message, metadata, reason });
}

function pack(typeName: string, value: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(value) };
}
