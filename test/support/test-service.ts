import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/main.js';
import { OffsetClock } from './fake-clock.js';
import { connectClient, type MfaClient } from './grpc-client.js';

/** A test key ring; tests that need two instances share it. */
export const TEST_KEYS = `test1:${randomBytes(32).toString('base64')}`;

export interface TestService {
  readonly service: RunningService;
  readonly client: MfaClient;
  readonly clock: OffsetClock;
  /** Every log line the service wrote, as text. */
  readonly logs: string[];
  stop(): Promise<void>;
}

/** Starts the real service in this process on a free loopback port, logging into memory. */
export async function startTestService(env: Record<string, string>, clock = new OffsetClock()): Promise<TestService> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({ GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', MFA_ENCRYPTION_KEYS: TEST_KEYS, LOG_LEVEL: 'debug', ...env });
  const service = await startService(config, { logger: createLogger(config.logLevel, sink), clock });
  const client = connectClient(service.port);
  return {
    service,
    client,
    clock,
    logs,
    stop: async () => {
      client.close();
      await service.stop();
    },
  };
}
