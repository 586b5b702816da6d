import type { AuditTrailEntry } from '../domain/audit-trail.js';
import { auditNaming, SECURITY_EVENT_TYPES, type AuthenticatorKind, type SecurityEventRecord, type SecurityEventType } from '../domain/security-events.js';
import {
  AuthenticatorKind as ProtoKind,
  SecurityEventType as ProtoType,
  securityEventTypeFromJSON,
  securityEventTypeToJSON,
  type AuditEvent,
  type SecurityEvent,
  type WatchSecurityEventsResponse,
} from '../gen/mfa/v1/mfa.js';
import type { SecurityEventMessage } from '../services/security-events/security-event-watch-service.js';

/** The proto's SecurityEventType of each domain type: SECURITY_EVENT_TYPE_<name>. */
const TO_PROTO = new Map<SecurityEventType, ProtoType>(
  SECURITY_EVENT_TYPES.map((type) => [type, securityEventTypeFromJSON(`SECURITY_EVENT_TYPE_${type}`)]),
);

/** WatchSecurityEventsRequest.types values, with their names for a violation's description. */
export const EVENT_TYPE_FILTERS = new Map<number, { name: string; value: SecurityEventType }>(
  [...TO_PROTO].map(([value, number]) => [number, { name: securityEventTypeToJSON(number), value }]),
);

/** A security event as sent; `cursor` empty where it is not a stream's (ListAuditEvents). */
export function toSecurityEvent(event: SecurityEventRecord, cursor: string): SecurityEvent {
  return {
    eventId: event.eventId,
    cursor,
    userId: event.userId,
    type: TO_PROTO.get(event.type) ?? ProtoType.SECURITY_EVENT_TYPE_UNSPECIFIED,
    occurredAt: event.occurredAt,
    caller: event.caller,
    requestId: event.requestId,
    authenticatorId: event.authenticatorId ?? '',
    deviceId: event.deviceId ?? '',
    recoveryCodesRemaining: event.recoveryCodesRemaining ?? 0,
    failedAttempts: event.failedAttempts ?? 0,
    reason: event.reason ?? '',
    authenticatorKind: toProtoKind(event.authenticatorKind),
  };
}

export function toWatchSecurityEventsResponse(message: SecurityEventMessage): WatchSecurityEventsResponse {
  return 'event' in message ? { event: toSecurityEvent(message.event, message.event.cursor) } : { heartbeat: message.heartbeat };
}

/** An entry of ListAuditEvents: the first version's strings, and for a security event its type and the event itself. */
export function toAuditEvent(entry: AuditTrailEntry): AuditEvent {
  const common = { eventId: entry.eventId, occurredAt: entry.occurredAt, userId: entry.userId, caller: entry.caller, requestId: entry.requestId };
  if (!('type' in entry)) {
    const { event, outcome, detail } = entry;
    return { ...common, event, outcome, detail, type: ProtoType.SECURITY_EVENT_TYPE_UNSPECIFIED, securityEvent: undefined };
  }
  const security = toSecurityEvent(entry, '');
  return { ...common, ...auditNaming(entry), type: security.type, securityEvent: security };
}

/** The proto's AuthenticatorKind of an authenticator's kind (UNSPECIFIED when the event names none). */
export function toProtoKind(kind: AuthenticatorKind | undefined): ProtoKind {
  if (kind === 'totp') return ProtoKind.AUTHENTICATOR_KIND_TOTP;
  if (kind === 'webauthn') return ProtoKind.AUTHENTICATOR_KIND_WEBAUTHN;
  return ProtoKind.AUTHENTICATOR_KIND_UNSPECIFIED;
}
