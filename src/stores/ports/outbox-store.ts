import type { SecurityEventRecord } from '../../domain/security-events.js';

/**
 * The users' outboxes: the security events a FactorStore write committed with
 * its change, until EventRelay has moved them to the SecurityEventLog. Kept
 * in the same documents as the FactorStore's records (every FactorStore
 * adapter implements this port too); a port of its own so that the relay and
 * the audit trail depend on the outbox alone.
 */
export interface OutboxStore {
  /** The user's outbox: events written and not yet relayed, oldest first. */
  outbox(userId: string): Promise<SecurityEventRecord[]>;
  /** Up to `limit` users whose outbox holds an event that occurred before `before`, with their outboxes. */
  outboxes(before: Date, limit: number): Promise<{ userId: string; events: SecurityEventRecord[] }[]>;
  /** Removes these events (as outbox() returned them) from the user's outbox: they are in the SecurityEventLog. */
  dropFromOutbox(userId: string, events: readonly SecurityEventRecord[]): Promise<void>;
}

/** Each method of OutboxStore, as a read or a write (see FACTOR_STORE_METHODS). */
export const OUTBOX_STORE_METHODS = {
  outbox: 'read',
  outboxes: 'read',
  dropFromOutbox: 'write',
} as const satisfies Record<keyof OutboxStore, 'read' | 'write'>;
