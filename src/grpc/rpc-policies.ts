import { MfaServiceService } from '../gen/mfa/v1/mfa.js';
import type { RpcMetrics } from './rpc-metrics.js';

/** How one RPC is served beyond its handler. Every field is stated, so that a new RPC has to decide each. */
export interface RpcPolicy<Req, Res> {
  /**
   * 'caller': any caller with a token (when MFA_AUTH_TOKENS is set); 'admin':
   * only MFA_ADMIN_CALLERS; 'events': MFA_EVENT_CALLERS and MFA_ADMIN_CALLERS.
   */
  readonly access: 'caller' | 'admin' | 'events';
  /** Its outcomes count in mfa_verifications_total. */
  readonly checksCode: boolean;
  /** Extra metrics on success. For a server stream: on each message sent. */
  readonly onSuccess?: (metrics: RpcMetrics, response: Res) => void;
}

type Methods = typeof MfaServiceService;
/** The RPC's name as in the proto ("BeginTotpEnrollment"), from the generated method's path. */
type RpcNameOf<K extends keyof Methods> = Methods[K]['path'] extends `/mfa.v1.MfaService/${infer Name}` ? Name : never;
type RequestOf<K extends keyof Methods> = Parameters<Methods[K]['requestSerialize']>[0];
type ResponseOf<K extends keyof Methods> = Parameters<Methods[K]['responseSerialize']>[0];

/** The policy of every MfaService RPC, keyed by RPC name. */
export type RpcPolicies = { readonly [K in keyof Methods as RpcNameOf<K>]: RpcPolicy<RequestOf<K>, ResponseOf<K>> };
export type RpcName = keyof RpcPolicies;

/**
 * The one table of per-RPC policy: who may call, which RPCs check a code,
 * their metrics. (Which changes record security events is the services'
 * decision, written with each change: SecurityEventFactory.)
 */
export const RPC_POLICIES: RpcPolicies = {
  BeginTotpEnrollment: {
    access: 'caller',
    checksCode: false,
    onSuccess: (m) => m.enrollment('begun'),
  },
  ConfirmTotpEnrollment: {
    access: 'caller',
    checksCode: true,
    onSuccess: (m) => m.enrollment('confirmed'),
  },
  CancelTotpEnrollment: {
    access: 'caller',
    checksCode: false,
    onSuccess: (m) => m.enrollment('cancelled'),
  },
  VerifyTotp: { access: 'caller', checksCode: true },
  VerifyRecoveryCode: { access: 'caller', checksCode: true },
  DisableMfa: { access: 'caller', checksCode: true },
  RegenerateRecoveryCodes: { access: 'caller', checksCode: true },
  GetMfaStatus: { access: 'caller', checksCode: false },
  CheckRememberedDevice: { access: 'caller', checksCode: false },
  ListRememberedDevices: { access: 'caller', checksCode: false },
  ForgetRememberedDevice: { access: 'caller', checksCode: false },
  RevokeSessions: { access: 'caller', checksCode: false },
  CheckSession: { access: 'caller', checksCode: false },
  ResetMfa: { access: 'admin', checksCode: false },
  ListAuditEvents: { access: 'admin', checksCode: false },
  ListAuthenticators: { access: 'caller', checksCode: false },
  RenameAuthenticator: { access: 'caller', checksCode: false },
  RemoveAuthenticator: { access: 'caller', checksCode: true },
  // Each enrollment it sends is begun like by BeginTotpEnrollment; the confirmation is ConfirmTotpEnrollment's to count.
  WatchTotpEnrollment: {
    access: 'caller',
    checksCode: false,
    onSuccess: (m, response) => {
      if (response.enrollment) m.enrollment('begun');
    },
  },
  WatchSecurityEvents: { access: 'events', checksCode: false },
  GetMfaAssertionKeys: { access: 'caller', checksCode: false },
  // Any caller with a token; only the assertion's audience may redeem it (RedemptionService).
  RedeemMfaAssertion: { access: 'caller', checksCode: false },
  BeginWebAuthnRegistration: { access: 'caller', checksCode: false },
  FinishWebAuthnRegistration: { access: 'caller', checksCode: true },
  BeginWebAuthnAuthentication: { access: 'caller', checksCode: false },
  VerifyWebAuthn: { access: 'caller', checksCode: true },
};

/**
 * Throws unless `policies` has exactly one entry per method of the generated
 * MfaService definition, so that an RPC added to the proto cannot be served
 * without deciding its access and metrics (checked at start-up).
 */
export function assertPoliciesCoverService(policies: Readonly<Record<string, unknown>>, service: Readonly<Record<string, { path: string }>> = MfaServiceService): void {
  const methods = Object.values(service).map((method) => method.path.split('/').pop()!);
  const missing = methods.filter((name) => !Object.hasOwn(policies, name));
  const unknown = Object.keys(policies).filter((name) => !methods.includes(name));
  if (missing.length > 0) throw new Error(`no RPC policy for MfaService method(s) ${missing.join(', ')}: add them to RPC_POLICIES`);
  if (unknown.length > 0) throw new Error(`RPC_POLICIES names ${unknown.join(', ')}, which MfaService does not have`);
}
