import type { Clock } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { AttemptStore, FactorStore, PendingEnrollmentStore } from '../../stores/ports/index.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import type { SessionService } from '../sessions/session-service.js';

/** What support staff may do without the user's codes. */
export class AdminService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly attempts: AttemptStore;
      readonly pending: PendingEnrollmentStore;
      readonly sessions: SessionService;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
    },
  ) {}

  /** Turns MFA off for a user who lost the phone and the recovery codes; revokes sessions, forgets devices and clears the lockout. */
  async resetMfa(userId: string, reason: string): Promise<{ resetAt: Date }> {
    const now = this.deps.clock.now();
    // Checked first so that resetting a user without MFA does not log them out. The lockout is
    // cleared all the same: a retry of a reset whose Redis step failed must still end it, or an
    // escalated lockout (up to MFA_LOCKOUT_MAX_SECONDS) would keep the user from enrolling again.
    if (!(await this.deps.factors.get(userId))?.enabled) {
      await this.deps.attempts.clear(userId);
      throw notEnabled();
    }
    // First, so that a retried Confirm can never turn MFA back on with the lost phone's secret.
    await this.deps.pending.clear(userId);
    await this.deps.sessions.announce(userId, now);
    if (!(await this.deps.factors.reset(userId, now, [this.deps.events.make(userId, 'MFA_RESET', { reason })]))) throw notEnabled();
    // After the durable reset (issue 22): the user starts afresh, with no failures, lockout or escalation left.
    await this.deps.attempts.clear(userId);
    return { resetAt: now };
  }
}

function notEnabled(): MfaError {
  return new MfaError(ErrorReason.MFA_NOT_ENABLED, 'MFA is not enabled for this user');
}
