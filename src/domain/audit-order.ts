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
