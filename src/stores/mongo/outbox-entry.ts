import type { AuthenticatorKind, SecurityEventRecord, SecurityEventType } from '../../domain/security-events.js';

/** A security event as its user's document holds it (the user id is the document's). */
export interface OutboxEntry {
  eventId: string;
  type: SecurityEventType;
  occurredAt: Date;
  caller: string;
  requestId: string;
  authenticatorId?: string;
  deviceId?: string;
  recoveryCodesRemaining?: number;
  failedAttempts?: number;
  reason?: string;
  authenticatorKind?: AuthenticatorKind;
}

/**
 * The entry of `event`, always with the same fields in the same order, and
 * no field for an absent detail: $pullAll finds an entry by equality with
 * what was pushed (MongoDB compares documents field by field, in order).
 */
export function toOutboxEntry(event: SecurityEventRecord): OutboxEntry {
  const entry: OutboxEntry = {
    eventId: event.eventId,
    type: event.type,
    occurredAt: event.occurredAt,
    caller: event.caller,
    requestId: event.requestId,
  };
  if (event.authenticatorId !== undefined) entry.authenticatorId = event.authenticatorId;
  if (event.deviceId !== undefined) entry.deviceId = event.deviceId;
  if (event.recoveryCodesRemaining !== undefined) entry.recoveryCodesRemaining = event.recoveryCodesRemaining;
  if (event.failedAttempts !== undefined) entry.failedAttempts = event.failedAttempts;
  if (event.reason !== undefined) entry.reason = event.reason;
  // Appended last (issue 23): entries pushed before it existed keep their exact shape.
  if (event.authenticatorKind !== undefined) entry.authenticatorKind = event.authenticatorKind;
  return entry;
}

export function fromOutboxEntry(userId: string, entry: OutboxEntry): SecurityEventRecord {
  const { eventId, type, occurredAt, caller, requestId, ...details } = entry;
  return { eventId, userId, type, occurredAt, caller, requestId, ...details };
}
