/**
 * The composition root: config -> stores -> services -> gRPC server (and the
 * metrics endpoint), and the process's signals. The only place that wires;
 * everything else takes its dependencies as arguments.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { systemClock, type Clock, type RandomBytes } from './domain/clock.js';
import { Keyring } from './domain/keyring.js';
import { RecoveryCodes } from './domain/recovery-codes.js';
import { SecretBox } from './domain/secret-box.js';
import { CallerAuthenticator } from './grpc/caller-tokens.js';
import { createMfaHandlers, type MfaServices } from './grpc/mfa-handlers.js';
import { startMetricsServer } from './grpc/metrics-server.js';
import { OpenStreams } from './grpc/open-streams.js';
import { RpcMetrics } from './grpc/rpc-metrics.js';
import { RPC_POLICIES } from './grpc/rpc-policies.js';
import { MFA_SERVICE_NAME, startGrpcServer, type GrpcServer } from './grpc/server.js';
import { createServerStream } from './grpc/server-stream.js';
import { createUnary } from './grpc/unary.js';
import { createLogger } from './logger.js';
import { AdminService } from './services/admin/admin-service.js';
import { AuditService } from './services/security-events/audit-service.js';
import { AuthenticatorService } from './services/authenticators/authenticator-service.js';
import { CodeChecks } from './services/code-checks/code-checks.js';
import { Lockout } from './services/code-checks/lockout.js';
import { ConfirmationService } from './services/enrollment/confirmation-service.js';
import { DeviceService } from './services/devices/device-service.js';
import { EnrollmentService } from './services/enrollment/enrollment-service.js';
import { EnrollmentWatchService } from './services/enrollment/enrollment-watch-service.js';
import { DEFAULT_RELAY_OPTIONS, EventRelay } from './services/security-events/event-relay.js';
import { withRelayNudge } from './services/security-events/relay-nudge.js';
import { SecurityEventFactory } from './services/security-events/security-event-factory.js';
import { SecurityEventWatchService } from './services/security-events/security-event-watch-service.js';
import { SessionService } from './services/sessions/session-service.js';
import { StatusService } from './services/status/status-service.js';
import { VerificationService } from './services/verification/verification-service.js';
import { openStores, type Stores } from './stores/open-stores.js';
import { StoreMonitor } from './stores/store-monitor.js';
import { shutdownTracing } from './tracing/tracing-shutdown.js';

/** A started service: its ports, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly metricsPort: number | null;
  readonly grpc: GrpcServer;
  stop(): Promise<void>;
}

/**
 * The services over a set of stores, and the relay of their security events
 * (not started); used by startService and by the service-level tests.
 */
export function createServices(
  config: Config,
  stores: Omit<Stores, 'close' | 'probes'>,
  deps: { keyring: Keyring; clock: Clock; random: RandomBytes; logger: Logger },
): MfaServices & { readonly relay: EventRelay } {
  const { keyring, clock, random, logger } = deps;
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
  const factors = withRelayNudge(stores.factors, relay, { lateWriteMs: [1000, config.storeTimeoutMs + 1000] });
  const events = new SecurityEventFactory({ clock, random });
  const box = new SecretBox(keyring, random);
  const recoveryCodes = new RecoveryCodes(keyring, random);
  const lockout = new Lockout({
    attempts,
    factors,
    events,
    logger: logger.child({ component: 'code-checks' }),
    policy: { maxFailures: config.maxFailedAttempts, lockoutMs: config.lockoutSeconds * 1000 },
  });
  const codeChecks = new CodeChecks({ lockout, box, recoveryCodes });
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
    admin: new AdminService({ factors, pending, sessions, events, clock }),
    audit: new AuditService({ log: stores.securityEvents, outbox: stores.factors }),
    securityEvents: new SecurityEventWatchService({
      log: stores.securityEvents,
      notifier: stores.eventNotices,
      clock,
      heartbeatMs: config.eventHeartbeatSeconds * 1000,
    }),
    relay,
  };
}

/** Wires and starts the whole service. Tests call it with their own clock and logger. */
export async function startService(
  config: Config,
  options: { logger: Logger; clock?: Clock; random?: RandomBytes },
): Promise<RunningService> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? randomBytes;
  let keyring = config.keyring;
  if (keyring === null) {
    logger.warn('MFA_ENCRYPTION_KEYS is not set: using an ephemeral key; secrets will not open after a restart');
    keyring = new Keyring([{ id: 'ephemeral', key: random(32) }]);
  }
  if (config.production && config.callerTokens.length === 0 && config.tls?.clientCa == null) {
    logger.warn('NODE_ENV=production without MFA_AUTH_TOKENS or mutual TLS: any client that reaches the port can call MfaService');
  }

  const stores = await openStores(config.stores, {
    clock, logger, timeoutMs: config.storeTimeoutMs, eventRetentionSeconds: config.eventRetentionSeconds, loginCopyTtlMs: config.loginCopySeconds * 1000,
  });
  const services = createServices(config, stores, { keyring, clock, random, logger });
  // Also relays what an instance that died left in outboxes.
  services.relay.start();
  const metrics = new RpcMetrics();
  const middleware = {
    serviceName: MFA_SERVICE_NAME,
    logger: logger.child({ component: 'grpc' }),
    authenticator: config.callerTokens.length > 0 ? new CallerAuthenticator(config.callerTokens) : null,
    adminCallers: config.adminCallers,
    eventCallers: config.eventCallers,
    metrics,
    policies: RPC_POLICIES,
  };
  // One cap for every server stream of the instance; grpc.stop ends them all first.
  const streams = new OpenStreams(config.maxWatchStreams);
  const unary = createUnary(middleware);
  const serverStream = createServerStream({ ...middleware, streams });

  let grpc: GrpcServer;
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | null = null;
  try {
    grpc = await startGrpcServer({
      handlers: createMfaHandlers(services, { unary, serverStream }),
      streams,
      host: config.grpcHost,
      port: config.grpcPort,
      tls: config.tls,
      reflection: config.reflection,
    });
    if (config.metricsPort !== null) metricsServer = await startMetricsServer(metrics.registry, config.metricsHost, config.metricsPort);
  } catch (error) {
    await services.relay.stop();
    await stores.close();
    throw error;
  }
  const monitor = new StoreMonitor({
    probes: stores.probes,
    intervalMs: 1000,
    onChange: (healthy) => grpc.health.setStatus(MFA_SERVICE_NAME, healthy ? 'SERVING' : 'NOT_SERVING'),
    logger: logger.child({ component: 'store-monitor' }),
  });
  monitor.start();
  logger.info(
    {
      host: config.grpcHost,
      port: grpc.port,
      stores: config.stores.kind,
      tls: config.tls === null ? 'off' : config.tls.clientCa === null ? 'tls' : 'mutual',
      callers: config.callerTokens.map((t) => t.name),
      metricsPort: metricsServer?.port ?? null,
    },
    'mfa-service listening',
  );
  return {
    port: grpc.port,
    metricsPort: metricsServer?.port ?? null,
    grpc,
    stop: once(async () => {
      // grpc.stop reports NOT_SERVING first; the monitor must not flip it back meanwhile.
      const stopping = grpc.stop(config.shutdownGraceSeconds * 1000);
      await monitor.stop();
      await stopping;
      // After the calls: what they wrote is relayed, or left for another instance's sweep.
      await services.relay.stop();
      await metricsServer?.close();
      await stores.close();
    }),
  };
}

/** A function that runs once; later calls get the first call's promise (SIGTERM then SIGINT, say). */
function once(run: () => Promise<void>): () => Promise<void> {
  let started: Promise<void> | null = null;
  return () => (started ??= run());
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`mfa-service: configuration error: ${error.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel, undefined, config.logFormat ?? (process.stdout.isTTY && !config.production ? 'pretty' : 'json'));
  const service = await startService(config, { logger });
  const stop = (signal: string) => {
    logger.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down');
    service.stop().then(
      async () => {
        logger.info('stopped');
        await shutdownTracing();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`mfa-service: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
