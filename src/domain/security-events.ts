/**
 * Security events: the changes to a user's second factor that the user should
 * hear about (issue 10). Each is written in the same single-document update as
 * its change (the user's outbox), relayed to the event log, and streamed by
 * WatchSecurityEvents. Never a secret, code or token.
 */
export const SECURITY_EVENT_TYPES = [
  'MFA_ENABLED',
  'MFA_DISABLED',
  'MFA_RESET',
  'AUTHENTICATOR_ADDED',
  'AUTHENTICATOR_REMOVED',
  'AUTHENTICATOR_RENAMED',
  'RECOVERY_CODE_USED',
  'RECOVERY_CODES_REGENERATED',
  'DEVICE_REMEMBERED',
  'DEVICE_FORGOTTEN',
  'SESSIONS_REVOKED',
  'LOCKED_OUT',
  'TOTP_SUSPENDED',
  'TOTP_RESTORED',
  'WEBAUTHN_COUNTER_REGRESSED',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** The typed details an event may carry; which ones, its type says (see the proto). */
export interface SecurityEventDetails {
  readonly authenticatorId?: string;
  readonly deviceId?: string;
  readonly recoveryCodesRemaining?: number;
  readonly failedAttempts?: number;
  /** The reason an admin gave for a reset. */
  readonly reason?: string;
  /** The kind of the authenticator concerned (MFA_ENABLED, AUTHENTICATOR_ADDED, AUTHENTICATOR_REMOVED). */
  readonly authenticatorKind?: AuthenticatorKind;
}

/** An authenticator app (TOTP) or a security key (WebAuthn). */
export type AuthenticatorKind = 'totp' | 'webauthn';

/** One event as made by the service and kept in the user's outbox until relayed. */
export interface SecurityEventRecord extends SecurityEventDetails {
  /** Stable across relays: the event log stores each id once. */
  readonly eventId: string;
  readonly userId: string;
  readonly type: SecurityEventType;
  readonly occurredAt: Date;
  /** The calling service, or '' when calls are not authenticated. */
  readonly caller: string;
  readonly requestId: string;
}

/** An event in the event log, at its position: positions are 1, 2, 3, ... without gaps, in commit order. */
export interface LoggedSecurityEvent extends SecurityEventRecord {
  readonly position: number;
}

/** How ListAuditEvents has named each kind of event since the first version (its `event`, `outcome` and `detail`). */
export function auditNaming(event: SecurityEventRecord): { event: string; outcome: 'success' | 'failure'; detail: string } {
  const success = (name: string, detail = '') => ({ event: name, outcome: 'success' as const, detail });
  switch (event.type) {
    case 'MFA_ENABLED':
      return success('enrollment.confirmed', 'MFA on; sessions revoked; devices forgotten');
    case 'MFA_DISABLED':
      return success('mfa.disabled', 'sessions revoked; devices forgotten');
    case 'MFA_RESET':
      return success('mfa.reset', event.reason);
    case 'AUTHENTICATOR_ADDED':
      return success('authenticator.added', event.authenticatorId);
    case 'AUTHENTICATOR_REMOVED':
      return success('authenticator.removed', `${event.authenticatorId}; sessions revoked`);
    case 'AUTHENTICATOR_RENAMED':
      return success('authenticator.renamed', event.authenticatorId);
    case 'RECOVERY_CODE_USED':
      return success('recovery_code.used', `${event.recoveryCodesRemaining} left`);
    case 'RECOVERY_CODES_REGENERATED':
      return success('recovery_codes.regenerated');
    case 'DEVICE_REMEMBERED':
      return success('device.remembered', event.deviceId);
    case 'DEVICE_FORGOTTEN':
      return success('device.forgotten', event.deviceId);
    case 'SESSIONS_REVOKED':
      return success('sessions.revoked');
    case 'LOCKED_OUT':
      return { event: 'code_check.locked_out', outcome: 'failure', detail: `${event.failedAttempts} failed code checks` };
    case 'TOTP_SUSPENDED':
      return { event: 'totp.suspended', outcome: 'failure', detail: `${event.failedAttempts} failed code checks in a row` };
    case 'TOTP_RESTORED':
      return success('totp.restored', 'by a recovery code or a security key');
    case 'WEBAUTHN_COUNTER_REGRESSED':
      return { event: 'webauthn.counter_regressed', outcome: 'failure', detail: `${event.authenticatorId}: possibly a cloned key` };
  }
}
