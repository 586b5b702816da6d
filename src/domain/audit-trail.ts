import type { SecurityEventRecord } from './security-events.js';

/** An audit event recorded before security events existed (ListAuditEvents still lists them). */
export interface LegacyAuditEvent {
  readonly eventId: string;
  readonly occurredAt: Date;
  readonly userId: string;
  readonly event: string;
  readonly outcome: 'success' | 'failure';
  readonly caller: string;
  readonly requestId: string;
  readonly detail: string;
}

/** An entry of a user's audit trail: a security event (relayed or still in the outbox), or one recorded before they existed. */
export type AuditTrailEntry = SecurityEventRecord | LegacyAuditEvent;

/** A position in a user's audit trail, newest first: (occurredAt, eventId) descending. */
export interface AuditCursor {
  readonly occurredAt: Date;
  readonly eventId: string;
}

/** The order of an audit trail: occurredAt descending, then eventId descending. */
export function newestFirst(a: AuditCursor, b: AuditCursor): number {
  const byTime = b.occurredAt.getTime() - a.occurredAt.getTime();
  return byTime !== 0 ? byTime : b.eventId < a.eventId ? -1 : b.eventId > a.eventId ? 1 : 0;
}

/** True when `event` comes after `cursor` in that order. */
export function isAfterCursor(event: AuditCursor, cursor: AuditCursor): boolean {
  return newestFirst(cursor, event) < 0;
}
