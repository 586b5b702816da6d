import type { AuditCursor, AuditTrailEntry, LegacyAuditEvent } from '../../domain/audit-trail.js';
import type { LoggedSecurityEvent, SecurityEventRecord, SecurityEventType } from '../../domain/security-events.js';

export type { AuditCursor, AuditTrailEntry, LegacyAuditEvent };

/**
 * Every user's security events, each at a position: 1, 2, 3, ... with no gap,
 * and an event at position n is visible only once every position below n is.
 * So a reader that has read up to n never misses an event that commits later:
 * it can only come after n. (How the MongoDB adapter keeps that with several
 * instances appending at once: mongo/mongo-security-event-log.ts.)
 */
export interface SecurityEventLog {
  /**
   * Appends `events` in order at the next positions, each event id once: an
   * id already in the log is skipped. Safe to run on several instances at once.
   */
  append(events: readonly SecurityEventRecord[]): Promise<void>;
  /** The position of the newest event ever appended (also when retention removed it); 0 when none. */
  head(): Promise<number>;
  /** The position of the oldest event kept, or null when none is kept. */
  oldest(): Promise<number | null>;
  /** Up to `limit` events at positions after `after` and up to `upTo`, of `types` (all when null), by position. */
  read(after: number, upTo: number, limit: number, types: readonly SecurityEventType[] | null): Promise<LoggedSecurityEvent[]>;
  /** Up to `limit` entries of the user's audit trail, newest first, all strictly after `after` in that order. */
  list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditTrailEntry[]>;
  /** Removes what occurred before `before`, except the newest event; for servers without TTL indexes. Returns how many went. */
  removeBefore(before: Date): Promise<number>;
  /** True when the server expires events itself (a TTL index), so removeBefore need not run. */
  readonly expiresItself: boolean;
}
