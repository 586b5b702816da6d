import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { MfaServiceService, type MfaServiceServer } from '../gen/mfa/v1/mfa.js';
import type { OpenStreams } from './open-streams.js';
import { addReflection } from './reflection.js';
import { withStrictRequestDecoding } from './request-decoding.js';

export const MFA_SERVICE_NAME = 'mfa.v1.MfaService';

/** TLS for the gRPC port: PEM contents read at start-up. */
export interface TlsConfig {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  readonly clientCa: Buffer | null;
}

export interface GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  readonly port: number;
  /**
   * Reports NOT_SERVING at once, ends the open streams (UNAVAILABLE, so that
   * their clients reconnect elsewhere), stops taking calls, and waits up to
   * `graceMs` for in-flight ones.
   */
  stop(graceMs: number): Promise<void>;
}

/**
 * The gRPC server: MfaService, health checking ("" and mfa.v1.MfaService;
 * never authenticated), and, unless turned off, server reflection so grpcurl
 * can list and describe the services. Plaintext, TLS, or mutual TLS.
 */
export async function startGrpcServer(options: {
  readonly handlers: MfaServiceServer;
  /** The server streams the handlers hold open. */
  readonly streams: OpenStreams;
  readonly host: string;
  readonly port: number;
  readonly tls: TlsConfig | null;
  readonly reflection: boolean;
}): Promise<GrpcServer> {
  const server = new Server();
  server.addService(withStrictRequestDecoding(MfaServiceService), options.handlers);
  const health = new HealthImplementation({ '': 'SERVING', [MFA_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  if (options.reflection) addReflection(server);

  const credentials =
    options.tls === null
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(
          options.tls.clientCa,
          [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
          options.tls.clientCa !== null,
        );
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, credentials, (error, bound) => (error ? reject(bindError(error, options.port)) : resolve(bound)));
  });

  return {
    server,
    health,
    port,
    stop: async (graceMs) => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(MFA_SERVICE_NAME, 'NOT_SERVING');
      options.streams.closeAll();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/**
 * grpc-js names a taken port only deep inside its message ("No address added
 * out of total 1 resolved errors: [listen EADDRINUSE: ...]"); say it in one
 * line, with the setting that picks another port. The cause stays for the log.
 */
function bindError(error: Error, port: number): Error {
  return error.message.includes('EADDRINUSE') ? new Error(`port ${port} is in use; set GRPC_PORT`, { cause: error }) : error;
}
