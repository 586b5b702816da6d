import type { Clock } from '../../domain/clock.js';
import { ErrorReason, hasReason, MfaError } from '../../domain/errors.js';
import { isWebAuthn, type AuthenticatorRecord, type FactorStore, type PendingEnrollmentStore } from '../../stores/ports/index.js';
import type { CodeChecks, CodeOrAssertion } from '../code-checks/code-checks.js';
import { enabledRecordForWrite } from '../code-checks/enabled-record.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import type { SessionService } from '../sessions/session-service.js';
import { spendOnCurrent } from '../code-checks/spend-on-current.js';

/** An authenticator as the service hands it out: never its secret nor its last step or counter. */
export interface AuthenticatorView {
  readonly authenticatorId: string;
  readonly kind: 'totp' | 'webauthn';
  readonly label: string;
  readonly createdAt: Date;
  /** Null until a code (or an assertion) of it is first accepted after its enrollment. */
  readonly lastUsedAt: Date | null;
  /** A security key's; empty or false for an authenticator app. */
  readonly aaguid: string;
  readonly transports: readonly string[];
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
}

function toView(a: AuthenticatorRecord): AuthenticatorView {
  const { authenticatorId, label, createdAt, lastUsedAt } = a;
  if (!isWebAuthn(a)) return { authenticatorId, kind: 'totp', label, createdAt, lastUsedAt, aaguid: '', transports: [], backupEligible: false, backedUp: false };
  return { authenticatorId, kind: 'webauthn', label, createdAt, lastUsedAt, aaguid: a.aaguid, transports: a.transports, backupEligible: a.backupEligible, backedUp: a.backedUp };
}

/** A user's authenticators: listing, relabelling, and removing one (a lost phone). */
export class AuthenticatorService {
  constructor(
    private readonly deps: {
      readonly factors: FactorStore;
      readonly pending: PendingEnrollmentStore;
      readonly codeChecks: CodeChecks;
      readonly sessions: SessionService;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
    },
  ) {}

  /** Oldest first; empty when MFA is off. */
  async list(userId: string): Promise<readonly AuthenticatorView[]> {
    const record = await this.deps.factors.get(userId);
    return record?.enabled ? record.authenticators.map(toView) : [];
  }

  async rename(request: { userId: string; authenticatorId: string; label: string }): Promise<AuthenticatorView> {
    // A legacy record is rewritten first: its one authenticator exists only as a view until then.
    const record = await enabledRecordForWrite(this.deps.factors, request.userId).catch((error: unknown) => {
      if (hasReason(error, ErrorReason.MFA_NOT_ENABLED)) return null;
      throw error;
    });
    const { userId, authenticatorId, label } = request;
    const renamed =
      record &&
      (await this.deps.factors.renameAuthenticator(userId, authenticatorId, label, [
        this.deps.events.make(userId, 'AUTHENTICATOR_RENAMED', { authenticatorId }),
      ]));
    if (!renamed) throw notFound();
    return toView(renamed);
  }

  /**
   * Removes an authenticator with a code of any of the user's authenticators
   * (the one removed included) or a recovery code, and revokes the user's
   * sessions: a lost phone must log its holder out. The last one stays:
   * DisableMfa turns MFA off.
   */
  async remove(request: { userId: string; authenticatorId: string } & CodeOrAssertion): Promise<{ removedAt: Date }> {
    const { userId, authenticatorId } = request;
    const record = await enabledRecordForWrite(this.deps.factors, userId);
    if (!record.authenticators.some((a) => a.authenticatorId === authenticatorId)) throw notFound();
    if (record.authenticators.length === 1) throw lastAuthenticator();
    const now = this.deps.clock.now();
    const { codeChecks } = this.deps;
    const check = await codeChecks.given(record, request, now);
    await codeChecks.spend(record, check, async (proof) => {
      // First, so that a retried Confirm of this authenticator's addition cannot bring it back.
      await this.deps.pending.clear(userId);
      // The cache half of the revocation first: a failure in between errs on the side of logging out.
      await this.deps.sessions.announce(userId, now);
      return spendOnCurrent(this.deps, proof, record, (current) => {
        const removed = current.authenticators.find((a) => a.authenticatorId === authenticatorId);
        if (removed === undefined) throw notFound();
        // Checked on the record the write applies to: two removals at once cannot take the last two.
        if (current.authenticators.length === 1) throw lastAuthenticator();
        const events = [this.deps.events.make(userId, 'AUTHENTICATOR_REMOVED', { authenticatorId, authenticatorKind: removed.kind ?? 'totp' })];
        return { change: { removeAuthenticatorId: authenticatorId, sessionsRevokedAt: now, usedAt: now, events }, result: null };
      });
    });
    return { removedAt: now };
  }
}

function notFound(): MfaError {
  return new MfaError(ErrorReason.AUTHENTICATOR_NOT_FOUND, 'this user has no authenticator with that authenticator_id');
}

function lastAuthenticator(): MfaError {
  return new MfaError(ErrorReason.LAST_AUTHENTICATOR, "this is the user's only authenticator: DisableMfa turns MFA off");
}
