/**
 * A user's security activity in words: the audit trail (ListAuditEvents) and
 * the live security events say the same things, by their SecurityEventType.
 */
import { SecurityEventType, type AuditEvent, type SecurityEvent } from 'mfa-service/client';

const WORDS: Partial<Record<SecurityEventType, string>> = {
  [SecurityEventType.SECURITY_EVENT_TYPE_MFA_ENABLED]: 'Two-factor authentication was turned on',
  [SecurityEventType.SECURITY_EVENT_TYPE_MFA_DISABLED]: 'Two-factor authentication was turned off',
  [SecurityEventType.SECURITY_EVENT_TYPE_MFA_RESET]: 'Support turned two-factor authentication off',
  [SecurityEventType.SECURITY_EVENT_TYPE_AUTHENTICATOR_ADDED]: 'An authenticator was added',
  [SecurityEventType.SECURITY_EVENT_TYPE_AUTHENTICATOR_REMOVED]: 'An authenticator was removed',
  [SecurityEventType.SECURITY_EVENT_TYPE_AUTHENTICATOR_RENAMED]: 'An authenticator was renamed',
  [SecurityEventType.SECURITY_EVENT_TYPE_RECOVERY_CODE_USED]: 'A recovery code was used',
  [SecurityEventType.SECURITY_EVENT_TYPE_RECOVERY_CODES_REGENERATED]: 'New recovery codes were made',
  [SecurityEventType.SECURITY_EVENT_TYPE_DEVICE_REMEMBERED]: 'A device was remembered at sign-in',
  [SecurityEventType.SECURITY_EVENT_TYPE_DEVICE_FORGOTTEN]: 'A remembered device was forgotten',
  [SecurityEventType.SECURITY_EVENT_TYPE_SESSIONS_REVOKED]: 'You were signed out everywhere',
  [SecurityEventType.SECURITY_EVENT_TYPE_LOCKED_OUT]: 'Too many wrong codes: sign-in was locked for a while',
  [SecurityEventType.SECURITY_EVENT_TYPE_TOTP_SUSPENDED]: 'Codes from authenticator apps were suspended after too many wrong codes',
  [SecurityEventType.SECURITY_EVENT_TYPE_TOTP_RESTORED]: 'A recovery code restored your authenticator apps',
};

/** One line of the "Recent security activity" list. */
export interface ActivityItem {
  readonly id: string;
  readonly at: string;
  readonly text: string;
}

export function fromSecurityEvent(event: SecurityEvent): ActivityItem {
  return { id: event.eventId, at: event.occurredAt?.toISOString() ?? '', text: WORDS[event.type] ?? 'Your sign-in settings changed' };
}

/** An audit entry; those that are not security events (a failed code, say) say what they recorded. */
export function fromAuditEvent(event: AuditEvent): ActivityItem {
  const failed = event.outcome === 'failure' ? ' (failed)' : '';
  const text = WORDS[event.type] ?? `${event.event.replaceAll(/[._]/g, ' ')}${failed}`;
  return { id: event.eventId, at: event.occurredAt?.toISOString() ?? '', text };
}
