import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { MfaServiceService, type MfaServiceServer } from '../gen/mfa/v1/mfa.js';
import { addReflection } from './reflection.js';

export const MFA_SERVICE_NAME = 'mfa.v1.MfaService';

export interface GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  readonly port: number;
  /** Stops taking calls; in-flight ones may finish. */
  stop(): Promise<void>;
}

/**
 * The gRPC server: MfaService, health checking ("" and mfa.v1.MfaService),
 * and server reflection over both so grpcurl can list and describe them.
 */
export async function startGrpcServer(options: {
  readonly handlers: MfaServiceServer;
  readonly host: string;
  readonly port: number;
}): Promise<GrpcServer> {
  const server = new Server();
  server.addService(MfaServiceService, options.handlers);

  const health = new HealthImplementation({ '': 'SERVING', [MFA_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);

  addReflection(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    server,
    health,
    port,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
