import { ErrorReason, MfaError } from '../../domain/errors.js';
import { isAfterCursor, newestFirst } from '../../domain/audit-trail.js';
import type { AuditTrailEntry, OutboxStore, SecurityEventLog } from '../../stores/ports/index.js';

export interface AuditPage {
  readonly events: AuditTrailEntry[];
  readonly nextPageToken: string;
}

export const DEFAULT_AUDIT_PAGE_SIZE = 50;
export const MAX_AUDIT_PAGE_SIZE = 500;

/**
 * A user's audit trail, page by page (AIP-158): the user's security events,
 * and the events recorded before they existed. Nothing is recorded here: each
 * service writes its events with its changes (SecurityEventFactory). Events
 * still in the user's outbox are listed too, so a change shows at once,
 * before the relay has moved it.
 */
export class AuditService {
  constructor(private readonly deps: { readonly log: SecurityEventLog; readonly outbox: OutboxStore }) {}

  async list(userId: string, pageSize: number, pageToken: string): Promise<AuditPage> {
    // AIP-158: 0 means the default, and a larger size than the maximum is lowered to it.
    const size = pageSize === 0 ? DEFAULT_AUDIT_PAGE_SIZE : Math.min(pageSize, MAX_AUDIT_PAGE_SIZE);
    const after = pageToken === '' ? null : decodePageToken(pageToken, userId);
    // One extra event tells whether another page follows.
    // The outbox first: the relay appends to the log before it empties the outbox, so an event gone
    // from the outbox by then is in the log when it is read next.
    const outbox = await this.deps.outbox.outbox(userId);
    const logged = await this.deps.log.list(userId, size + 1, after);
    const ids = new Set(logged.map((e) => e.eventId));
    const unrelayed = outbox.filter((e) => !ids.has(e.eventId) && (after === null || isAfterCursor(e, after)));
    const found = [...logged, ...unrelayed].sort(newestFirst).slice(0, size + 1);
    const events = found.slice(0, size);
    const last = events[events.length - 1];
    return { events, nextPageToken: found.length > size && last ? encodePageToken(userId, last) : '' };
  }
}

// Opaque to clients (AIP-158), but bound to the user it was issued for.
function encodePageToken(userId: string, last: AuditTrailEntry): string {
  return Buffer.from(JSON.stringify(['v1', userId, last.occurredAt.getTime(), last.eventId])).toString('base64url');
}

function decodePageToken(token: string, userId: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed[0] !== 'v1' || typeof parsed[2] !== 'number' || typeof parsed[3] !== 'string') {
    throw badPageToken('is not a page token from ListAuditEvents');
  }
  if (parsed[1] !== userId) throw badPageToken('was issued for another user_id');
  return { occurredAt: new Date(parsed[2]), eventId: parsed[3] };
}

function badPageToken(description: string): MfaError {
  return new MfaError(ErrorReason.INVALID_REQUEST, `invalid request: page_token`, {
    fieldViolations: [{ field: 'page_token', description }],
  });
}
