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
  /**
   * Up to `limit` users whose outbox holds an event that occurred before
   * `before`, with their outboxes; it may also list users whose outbox is
   * empty by now (with no events), which settleOutbox then tidies. Its cost
   * follows the events waiting, not the number of users.
   */
  outboxes(before: Date, limit: number): Promise<{ userId: string; events: SecurityEventRecord[] }[]>;
  /**
   * Called by the sweep for each user outboxes() listed, after relaying:
   * forgets the user as pending once the outbox is empty and stayed unwritten
   * for a while (MongoDB: pending-outboxes.ts); nothing where outboxes() reads
   * the outboxes themselves (memory).
   */
  settleOutbox(userId: string, now: Date): Promise<void>;
  /** Removes these events (as outbox() returned them) from the user's outbox: they are in the SecurityEventLog. */
  dropFromOutbox(userId: string, events: readonly SecurityEventRecord[]): Promise<void>;
}

/** Each method of OutboxStore, as a read or a write (see FACTOR_STORE_METHODS). */
export const OUTBOX_STORE_METHODS = {
  outbox: 'read',
  outboxes: 'read',
  dropFromOutbox: 'write',
  settleOutbox: 'write',
} as const satisfies Record<keyof OutboxStore, 'read' | 'write'>;
