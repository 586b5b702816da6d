import { MfaServiceService } from '../gen/mfa/v1/mfa.js';
import type { RpcMetrics } from './rpc-metrics.js';

/** An audit event a call produced. */
export interface AuditFact {
  readonly event: string;
  readonly detail?: string;
}

/** How one RPC is served beyond its handler. Every field is stated, so that a new RPC has to decide each. */
export interface RpcPolicy<Req, Res> {
  /** 'caller': any caller with a token (when MFA_AUTH_TOKENS is set); 'admin': only MFA_ADMIN_CALLERS. */
  readonly access: 'caller' | 'admin';
  /** Its outcomes count in mfa_verifications_total. (Failed code checks of any RPC go to the audit trail.) */
  readonly checksCode: boolean;
  /** The audit event of a success, if any. */
  readonly audit: ((request: Req, response: Res) => AuditFact | null) | null;
  /** Extra metrics on success. */
  readonly onSuccess?: (metrics: RpcMetrics) => void;
}

type Methods = typeof MfaServiceService;
/** The RPC's name as in the proto ("BeginTotpEnrollment"), from the generated method's path. */
type RpcNameOf<K extends keyof Methods> = Methods[K]['path'] extends `/mfa.v1.MfaService/${infer Name}` ? Name : never;
type RequestOf<K extends keyof Methods> = Parameters<Methods[K]['requestSerialize']>[0];
type ResponseOf<K extends keyof Methods> = Parameters<Methods[K]['responseSerialize']>[0];

/** The policy of every MfaService RPC, keyed by RPC name. */
export type RpcPolicies = { readonly [K in keyof Methods as RpcNameOf<K>]: RpcPolicy<RequestOf<K>, ResponseOf<K>> };
export type RpcName = keyof RpcPolicies;

/** The one table of per-RPC policy: who may call, what is audited, which RPCs check a code. */
export const RPC_POLICIES: RpcPolicies = {
  BeginTotpEnrollment: {
    access: 'caller',
    checksCode: false,
    audit: () => ({ event: 'enrollment.begun' }),
    onSuccess: (m) => m.enrollment('begun'),
  },
  ConfirmTotpEnrollment: {
    access: 'caller',
    checksCode: true,
    audit: (_, response) =>
      response.recoveryCodes.length > 0
        ? { event: 'enrollment.confirmed', detail: 'MFA on; sessions revoked; devices forgotten' }
        : { event: 'authenticator.added', detail: response.authenticatorId },
    onSuccess: (m) => m.enrollment('confirmed'),
  },
  CancelTotpEnrollment: {
    access: 'caller',
    checksCode: false,
    audit: () => ({ event: 'enrollment.cancelled' }),
    onSuccess: (m) => m.enrollment('cancelled'),
  },
  VerifyTotp: {
    access: 'caller',
    checksCode: true,
    audit: (_, response) => (response.deviceToken ? { event: 'device.remembered' } : null),
  },
  VerifyRecoveryCode: {
    access: 'caller',
    checksCode: true,
    audit: (_, response) => ({ event: 'recovery_code.used', detail: response.deviceToken ? 'device remembered' : '' }),
  },
  DisableMfa: {
    access: 'caller',
    checksCode: true,
    audit: () => ({ event: 'mfa.disabled', detail: 'sessions revoked; devices forgotten' }),
  },
  RegenerateRecoveryCodes: { access: 'caller', checksCode: true, audit: () => ({ event: 'recovery_codes.regenerated' }) },
  GetMfaStatus: { access: 'caller', checksCode: false, audit: null },
  CheckRememberedDevice: { access: 'caller', checksCode: false, audit: null },
  ListRememberedDevices: { access: 'caller', checksCode: false, audit: null },
  ForgetRememberedDevice: { access: 'caller', checksCode: false, audit: (request) => ({ event: 'device.forgotten', detail: request.deviceId }) },
  RevokeSessions: { access: 'caller', checksCode: false, audit: () => ({ event: 'sessions.revoked' }) },
  CheckSession: { access: 'caller', checksCode: false, audit: null },
  ResetMfa: { access: 'admin', checksCode: false, audit: (request) => ({ event: 'mfa.reset', detail: request.reason }) },
  ListAuditEvents: { access: 'admin', checksCode: false, audit: null },
  ListAuthenticators: { access: 'caller', checksCode: false, audit: null },
  RenameAuthenticator: { access: 'caller', checksCode: false, audit: (request) => ({ event: 'authenticator.renamed', detail: request.authenticatorId }) },
  RemoveAuthenticator: {
    access: 'caller',
    checksCode: true,
    audit: (request) => ({ event: 'authenticator.removed', detail: `${request.authenticatorId}; sessions revoked` }),
  },
};

/**
 * Throws unless `policies` has exactly one entry per method of the generated
 * MfaService definition, so that an RPC added to the proto cannot be served
 * without deciding its access, auditing and metrics (checked at start-up).
 */
export function assertPoliciesCoverService(policies: Readonly<Record<string, unknown>>, service: Readonly<Record<string, { path: string }>> = MfaServiceService): void {
  const methods = Object.values(service).map((method) => method.path.split('/').pop()!);
  const missing = methods.filter((name) => !Object.hasOwn(policies, name));
  const unknown = Object.keys(policies).filter((name) => !methods.includes(name));
  if (missing.length > 0) throw new Error(`no RPC policy for MfaService method(s) ${missing.join(', ')}: add them to RPC_POLICIES`);
  if (unknown.length > 0) throw new Error(`RPC_POLICIES names ${unknown.join(', ')}, which MfaService does not have`);
}
