import type { AuditCursor, AuditEventRecord, AuditLog } from '../ports.js';
import { isAfterCursor, newestFirst } from '../audit-order.js';

/** In-process AuditLog (kept only while the process runs). */
export class MemoryAuditLog implements AuditLog {
  readonly #events: AuditEventRecord[] = [];

  async record(event: AuditEventRecord): Promise<void> {
    this.#events.push(event);
  }

  async list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditEventRecord[]> {
    return this.#events
      .filter((e) => e.userId === userId && (after === null || isAfterCursor(e, after)))
      .sort(newestFirst)
      .slice(0, limit);
  }
}
