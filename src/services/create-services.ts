import type { Logger } from 'pino';
import type { Clock, RandomBytes } from '../domain/clock.js';
import type { Keyring } from '../domain/keyring.js';
import { RecoveryCodes } from '../domain/recovery-codes.js';
import { SecretBox } from '../domain/secret-box.js';
import type { Stores } from '../stores/open-stores.js';
import { AdminService } from './admin/admin-service.js';
import { AssertionKeys } from './assertions/assertion-keys.js';
import { AssertionService } from './assertions/assertion-service.js';
import { RedemptionService } from './assertions/redemption-service.js';
import { AuthenticatorService } from './authenticators/authenticator-service.js';
import { CodeChecks } from './code-checks/code-checks.js';
import { Lockout, NO_LOCKOUT_METER, type LockoutMeter } from './code-checks/lockout.js';
import { DeviceService } from './devices/device-service.js';
import { ConfirmationService } from './enrollment/confirmation-service.js';
import { EnrollmentService } from './enrollment/enrollment-service.js';
import { EnrollmentWatchService } from './enrollment/enrollment-watch-service.js';
import { AuditService } from './security-events/audit-service.js';
import { DEFAULT_RELAY_OPTIONS, EventRelay } from './security-events/event-relay.js';
import { withRelayNudge } from './security-events/relay-nudge.js';
import { SecurityEventFactory } from './security-events/security-event-factory.js';
import { SecurityEventWatchService } from './security-events/security-event-watch-service.js';
import { SessionService } from './sessions/session-service.js';
import { StatusService } from './status/status-service.js';
import { VerificationService } from './verification/verification-service.js';
import type { WebAuthnSettings } from '../domain/webauthn.js';
import { AssertionChecks } from './webauthn/assertion-checks.js';
import { AuthenticationService } from './webauthn/authentication-service.js';
import { RegistrationService } from './webauthn/registration-service.js';

/** The settings the services read (config.ts documents each; a Config has them all). */
export interface ServiceSettings {
  readonly issuer: string;
  readonly enrollmentTtlSeconds: number;
  readonly maxAuthenticators: number;
  readonly maxFailedAttempts: number;
  readonly lockoutSeconds: number;
  readonly lockoutMaxSeconds: number;
  readonly maxConsecutiveFailures: number;
  readonly rememberDeviceDays: number;
  readonly maxRememberedDevices: number;
  readonly eventRetentionSeconds: number;
  readonly eventHeartbeatSeconds: number;
  readonly eventSweepSeconds: number;
  /** MFA_TOTP_COPY_SECONDS: the login copy's time to live; 0 turns it off. */
  readonly loginCopySeconds: number;
  readonly storeTimeoutMs: number;
  /** MFA_ASSERTION_ISSUER; null: MFA assertions are off. */
  readonly assertionIssuer: string | null;
  readonly assertionTtlSeconds: number;
  readonly assertionKeyRotationDays: number;
  /** Security keys (MFA_WEBAUTHN_*); null or absent: off (WEBAUTHN_NOT_CONFIGURED). */
  readonly webauthn?: WebAuthnSettings | null;
}

/** The services the gRPC handlers call, one per capability. */
export interface MfaServices {
  readonly enrollment: EnrollmentService;
  readonly watch: EnrollmentWatchService;
  readonly confirmation: ConfirmationService;
  readonly authenticators: AuthenticatorService;
  readonly verification: VerificationService;
  readonly devices: DeviceService;
  readonly sessions: SessionService;
  readonly status: StatusService;
  readonly admin: AdminService;
  readonly audit: AuditService;
  readonly securityEvents: SecurityEventWatchService;
  /** MFA assertions: issued after a passed check on request, their keys, their redemption (issue 25). */
  readonly assertions: AssertionService;
  readonly assertionKeys: AssertionKeys;
  readonly redemptions: RedemptionService;
  readonly webauthnRegistration: RegistrationService;
  readonly webauthnAuthentication: AuthenticationService;
}

/** The services, and the relay of their security events (which the caller starts and stops). */
export interface Services extends MfaServices {
  readonly relay: EventRelay;
}

/**
 * The services over a set of stores, and the relay of their security events
 * (not started); used by startService and by the service-level tests.
 */
export function createServices(
  config: ServiceSettings,
  stores: Omit<Stores, 'close' | 'probes'>,
  deps: { keyring: Keyring; clock: Clock; random: RandomBytes; logger: Logger; meter?: LockoutMeter },
): Services {
  const { keyring, clock, random, logger, meter = NO_LOCKOUT_METER } = deps;
  const { pending, attempts } = stores;
  const relay = new EventRelay({
    outbox: stores.factors,
    log: stores.securityEvents,
    notifier: stores.eventNotices,
    clock,
    logger: logger.child({ component: 'event-relay' }),
    options: { ...DEFAULT_RELAY_OPTIONS, sweepEveryMs: config.eventSweepSeconds * 1000, retentionSeconds: config.eventRetentionSeconds },
  });
  // Every write that carries security events wakes the relay.
  // A failed write may still land: look again a second later, and once a write cut off by the store
  // timeout has surely landed or failed.
  const factors = withRelayNudge(stores.factors, relay, { againAfterMs: 1000, finallyAfterMs: config.storeTimeoutMs + 1000 });
  const events = new SecurityEventFactory({ clock, random });
  const box = new SecretBox(keyring, random);
  const recoveryCodes = new RecoveryCodes(keyring, random);
  const lockout = new Lockout({
    attempts,
    factors,
    events,
    clock,
    logger: logger.child({ component: 'code-checks' }),
    meter,
    settings: {
      maxFailures: config.maxFailedAttempts,
      lockoutMs: config.lockoutSeconds * 1000,
      maxLockoutMs: config.lockoutMaxSeconds * 1000,
      maxConsecutiveFailures: config.maxConsecutiveFailures,
    },
  });
  const webauthn = config.webauthn ?? null;
  const { challenges } = stores;
  // A security key's answers (WebAuthn assertions), not the signed MFA assertions of issue 25.
  const keyAnswers =
    webauthn === null
      ? null
      : new AssertionChecks({ settings: webauthn, challenges, factors, events, clock, logger: logger.child({ component: 'webauthn' }) });
  const codeChecks = new CodeChecks({ lockout, box, recoveryCodes, assertions: keyAnswers });
  const sessions = new SessionService({ factors, cache: stores.revocations, events, clock, logger: logger.child({ component: 'sessions' }) });
  const devices = new DeviceService({
    factors,
    events,
    clock,
    random,
    rememberDeviceMs: config.rememberDeviceDays * 86_400_000,
    maxDevices: config.maxRememberedDevices,
  });
  const enrollmentTtlMs = config.enrollmentTtlSeconds * 1000;
  const { maxAuthenticators } = config;
  const confirmation = new ConfirmationService({
    factors, pending, codeChecks, sessions, box, recoveryCodes, clock, enrollmentTtlMs, maxAuthenticators, events,
    confirmations: stores.confirmations, logger: logger.child({ component: 'confirmation' }),
  });
  const enrollment = new EnrollmentService({
    factors, pending, box, clock, random, issuer: config.issuer, enrollmentTtlMs, maxAuthenticators,
    finishConfirmation: (confirmed) => confirmation.finish(confirmed),
  });
  const assertionKeys = new AssertionKeys({
    store: stores.assertionKeys,
    box,
    keyring,
    clock,
    logger: logger.child({ component: 'assertion-keys' }),
    rotationMs: config.assertionKeyRotationDays * 86_400_000,
    ttlMs: config.assertionTtlSeconds * 1000,
  });
  const assertions = new AssertionService({
    settings: config.assertionIssuer === null ? null : { issuer: config.assertionIssuer, ttlMs: config.assertionTtlSeconds * 1000 },
    keys: assertionKeys,
    clock,
    random,
  });
  return {
    enrollment,
    watch: new EnrollmentWatchService({ enrollment, factors, pending, confirmations: stores.confirmations, clock }),
    confirmation,
    authenticators: new AuthenticatorService({ factors, pending, codeChecks, sessions, events, clock }),
    verification: new VerificationService({
      factors, pending, codeChecks, sessions, devices, recoveryCodes, events, clock,
      loginCopies: config.loginCopySeconds > 0 ? stores.loginCopies : null,
    }),
    devices,
    sessions,
    status: new StatusService({ factors, pending, attempts, sessions, clock }),
    admin: new AdminService({ factors, attempts, pending, sessions, events, clock }),
    audit: new AuditService({ log: stores.securityEvents, outbox: stores.factors }),
    securityEvents: new SecurityEventWatchService({
      log: stores.securityEvents,
      notifier: stores.eventNotices,
      clock,
      heartbeatMs: config.eventHeartbeatSeconds * 1000,
    }),
    assertions,
    assertionKeys,
    redemptions: new RedemptionService({
      assertions, keys: assertionKeys, redemptions: stores.redemptions, sessions, clock, logger: logger.child({ component: 'redemptions' }),
    }),
    webauthnRegistration: new RegistrationService({
      settings: webauthn, factors, challenges, claims: stores.credentialClaims, codeChecks, sessions, box, recoveryCodes, events, clock, random,
      maxAuthenticators, logger: logger.child({ component: 'webauthn' }),
    }),
    webauthnAuthentication: new AuthenticationService({ settings: webauthn, factors, challenges, clock, random }),
    relay,
  };
}
