import { credentials, makeGenericClientConstructor, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

const HealthClient = makeGenericClientConstructor(healthService, 'Health');

/** Opens grpc.health.v1.Health/Watch for `service`; `statuses` fills as the server reports them. */
export function watchHealth(port: number, service: string): { statuses: string[]; close(): void } {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const statuses: string[] = [];
  const stream = (client as unknown as Record<string, Function>)['watch']!.call(client, { service });
  stream.on('data', (response: { status: string }) => statuses.push(response.status));
  stream.on('error', () => {});
  return {
    statuses,
    close: () => {
      stream.cancel();
      client.close();
    },
  };
}

/** grpc.health.v1.Health/Check for `service` ('' is the whole server): SERVING, NOT_SERVING, or the call's error. */
export function checkHealth(port: number, service: string, channel: ChannelCredentials = credentials.createInsecure()): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, channel);
  return new Promise<string>((resolve, reject) => {
    (client as unknown as Record<string, Function>)['check']!.call(
      client,
      { service },
      { deadline: Date.now() + 5000 },
      (error: ServiceError | null, response: { status: string }) => {
        client.close();
        if (error) reject(error);
        else resolve(response.status);
      },
    );
  });
}
