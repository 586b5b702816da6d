import { currentActor } from '../../call-scope.js';
import type { Clock, RandomBytes } from '../../domain/clock.js';
import type { SecurityEventDetails, SecurityEventRecord, SecurityEventType } from '../../domain/security-events.js';

/**
 * Makes the security events the services write with their changes: a fresh
 * event id, the time, and the caller and request id of the call being served.
 * Which change records which event is decided by the service making the change.
 */
export class SecurityEventFactory {
  constructor(private readonly deps: { readonly clock: Clock; readonly random: RandomBytes }) {}

  make(userId: string, type: SecurityEventType, details: SecurityEventDetails = {}): SecurityEventRecord {
    return {
      eventId: `evt_${this.deps.random(16).toString('base64url')}`,
      userId,
      type,
      occurredAt: this.deps.clock.now(),
      ...currentActor(),
      ...details,
    };
  }
}
