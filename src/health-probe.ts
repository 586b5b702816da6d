/**
 * The container's health check (docker-compose.yml): asks the service in this
 * container, through grpc.health.v1.Health/Check, whether mfa.v1.MfaService is
 * SERVING. Exits 0 if it is; 1 if it answers anything else (NOT_SERVING while
 * Redis or MongoDB is unreachable, or while shutting down) or does not answer
 * within 3 s. It reads the service's own settings (GRPC_PORT, GRPC_HOST,
 * TLS), so it needs no arguments:
 *
 *   node dist/health-probe.js
 *
 * With TLS it does not verify the certificate (it talks to its own container
 * over loopback). A port that requires client certificates (GRPC_TLS_CLIENT_CA)
 * cannot be probed this way: it says so and exits 1.
 */
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { ConfigError, loadConfig, type Config } from './config.js';

// grpc/server.ts's MFA_SERVICE_NAME, written out: importing the server would load it all, every few seconds.
const MFA_SERVICE_NAME = 'mfa.v1.MfaService';
const DEADLINE_MS = 3000;
const HealthClient = makeGenericClientConstructor(healthService, 'Health');

function probe(config: Config): Promise<string> {
  // The service listens on every address by default; the probe asks it on loopback.
  const host = ['0.0.0.0', '::', '[::]'].includes(config.grpcHost) ? '127.0.0.1' : config.grpcHost;
  const channel = config.tls === null ? credentials.createInsecure() : credentials.createSsl(null, null, null, { rejectUnauthorized: false });
  const client = new HealthClient(`${host}:${config.grpcPort}`, channel);
  return new Promise((resolve, reject) => {
    const check = (client as unknown as Record<string, Function>)['check']!;
    check.call(client, { service: MFA_SERVICE_NAME }, { deadline: Date.now() + DEADLINE_MS }, (error: ServiceError | null, response: { status: string }) => {
      client.close();
      if (error) reject(error);
      else resolve(response.status);
    });
  });
}

function fail(message: string): never {
  process.stderr.write(`health-probe: ${message}\n`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
  throw error;
}
if (config.tls?.clientCa != null) fail('the port requires client certificates (GRPC_TLS_CLIENT_CA): probe it with a TLS-capable gRPC health checker');
try {
  const answer = await probe(config);
  if (answer !== 'SERVING') fail(`${MFA_SERVICE_NAME} is ${answer}`);
  process.stdout.write(`${MFA_SERVICE_NAME} is SERVING\n`);
} catch (error) {
  fail(`no answer from port ${config.grpcPort}: ${(error as ServiceError).details ?? String(error)}`);
}
