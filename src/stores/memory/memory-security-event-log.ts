import type { LoggedSecurityEvent, SecurityEventRecord, SecurityEventType } from '../../domain/security-events.js';
import { isAfterCursor, newestFirst } from '../../domain/audit-trail.js';
import type { AuditCursor, AuditTrailEntry, SecurityEventLog } from '../ports/index.js';

/** In-process SecurityEventLog (kept only while the process runs); one process appends, so positions are simply counted. */
export class MemorySecurityEventLog implements SecurityEventLog {
  readonly #events: LoggedSecurityEvent[] = [];
  readonly #ids = new Set<string>();
  #head = 0;
  readonly expiresItself = false;

  async append(events: readonly SecurityEventRecord[]): Promise<void> {
    for (const event of events) {
      if (this.#ids.has(event.eventId)) continue;
      this.#ids.add(event.eventId);
      this.#head += 1;
      this.#events.push({ ...event, position: this.#head });
    }
  }

  async head(): Promise<number> {
    return this.#head;
  }

  async oldest(): Promise<number | null> {
    return this.#events[0]?.position ?? null;
  }

  async read(after: number, upTo: number, limit: number, types: readonly SecurityEventType[] | null): Promise<LoggedSecurityEvent[]> {
    return this.#events
      .filter((e) => e.position > after && e.position <= upTo && (types === null || types.includes(e.type)))
      .slice(0, limit);
  }

  async list(userId: string, limit: number, after: AuditCursor | null): Promise<AuditTrailEntry[]> {
    return this.#events
      .filter((e) => e.userId === userId && (after === null || isAfterCursor(e, after)))
      .sort(newestFirst)
      .slice(0, limit);
  }

  async removeBefore(before: Date): Promise<number> {
    const expired = (e: LoggedSecurityEvent) => e.occurredAt.getTime() < before.getTime() && e.position !== this.#head;
    const removed = this.#events.filter(expired);
    for (const event of removed) this.#ids.delete(event.eventId);
    this.#events.splice(0, this.#events.length, ...this.#events.filter((e) => !expired(e)));
    return removed.length;
  }
}
