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
import { CallerAuthenticator } from './grpc/caller-tokens.js';
import { createMfaHandlers } from './grpc/mfa-handlers.js';
import { startMetricsServer } from './grpc/metrics-server.js';
import { OpenStreams } from './grpc/open-streams.js';
import { RpcMetrics } from './grpc/rpc-metrics.js';
import { RPC_POLICIES } from './grpc/rpc-policies.js';
import { MFA_SERVICE_NAME, startGrpcServer, type GrpcServer } from './grpc/server.js';
import { createServerStream } from './grpc/server-stream.js';
import { createUnary } from './grpc/unary.js';
import { createLogger } from './logger.js';
import { createServices } from './services/create-services.js';
import { openStores } from './stores/open-stores.js';
import { StoreMonitor } from './stores/store-monitor.js';
import { shutdownTracing } from './tracing/tracing-shutdown.js';

/** A started service: its ports, and how to stop it. */
export interface RunningService {
  readonly port: number;
  readonly metricsPort: number | null;
  readonly grpc: GrpcServer;
  stop(): Promise<void>;
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
  const metrics = new RpcMetrics();
  const services = createServices(config, stores, { keyring, clock, random, logger, meter: metrics });
  // Also relays what an instance that died left in outboxes.
  services.relay.start();
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
    if (config.metricsPort !== null) {
      const jwks = async () => (config.assertionIssuer === null ? null : services.assertionKeys.jwks());
      metricsServer = await startMetricsServer(metrics.registry, config.metricsHost, config.metricsPort, jwks);
    }
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
