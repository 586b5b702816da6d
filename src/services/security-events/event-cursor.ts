import { ErrorReason, MfaError } from '../../domain/errors.js';

/** The after_cursor that asks for every event still kept. */
export const EARLIEST_CURSOR = 'earliest';

const PREFIX = 'sev1:';

/**
 * A cursor of WatchSecurityEvents: the position in the event log of the last
 * event sent (or passed over), opaque to clients. Positions have no gaps and
 * commit in order (stores/ports/security-event-log.ts), so "every event after this
 * position" is exact.
 */
export function encodeEventCursor(position: number): string {
  return Buffer.from(`${PREFIX}${position}`).toString('base64url');
}

/** The position of a cursor; INVALID_ARGUMENT naming after_cursor when it is not one. */
export function decodeEventCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,40}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const digits = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : '';
  if (!/^(0|[1-9]\d{0,15})$/.test(digits)) throw badCursor('is not a cursor from WatchSecurityEvents (nor empty, nor "earliest")');
  return Number(digits);
}

export function badCursor(description: string): MfaError {
  return new MfaError(ErrorReason.INVALID_REQUEST, 'invalid request: after_cursor', { fieldViolations: [{ field: 'after_cursor', description }] });
}
