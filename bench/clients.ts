import {
  Channel,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { MfaServiceClient } from '../src/gen/mfa/v1/mfa.js';

/** A unary method of a grpc-js client, in its (request, metadata, options, callback) form. */
export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** `grpc.health.v1.Health/Check`, the one health method the benchmark calls. */
export interface HealthClient extends Client {
  Check: UnaryMethod<{ service: string }, { status: string | number }>;
}

const HealthClientConstructor = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, 'grpc.health.v1.Health');

/**
 * One client pair (MfaService and Health) per HTTP/2 connection. A local
 * subchannel pool per channel is what makes them separate connections: grpc-js
 * otherwise shares one subchannel between channels with the same target and options.
 */
export class ClientPool {
  readonly mfa: MfaServiceClient[] = [];
  readonly health: HealthClient[] = [];
  readonly #channels: Channel[] = [];
  #next = 0;

  constructor(port: number, channelCount: number) {
    for (let i = 0; i < channelCount; i += 1) {
      const channel = new Channel(`127.0.0.1:${port}`, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.channel_id': i,
      });
      this.#channels.push(channel);
      this.mfa.push(new MfaServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), { channelOverride: channel }));
      this.health.push(new HealthClientConstructor(`127.0.0.1:${port}`, credentials.createInsecure(), { channelOverride: channel }) as unknown as HealthClient);
    }
  }

  /** Round-robin over the connections. */
  nextIndex(): number {
    this.#next = (this.#next + 1) % this.#channels.length;
    return this.#next;
  }

  close(): void {
    for (const channel of this.#channels) channel.close();
  }
}

/** True when the server on `port` answers a health check with SERVING within a second. */
export async function isServing(port: number): Promise<boolean> {
  const client = new HealthClientConstructor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as HealthClient;
  try {
    const answer = await callUnary(client, client.Check, { service: '' }, new Metadata(), 1_000);
    return answer.status === 'SERVING' || answer.status === 1;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Calls a unary method and settles with its response or its ServiceError. */
export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata,
  deadlineMs = 30_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    // grpc-js may add headers to the Metadata it is given: each call gets its own copy.
    method.call(client, request, metadata.clone(), { deadline: Date.now() + deadlineMs }, (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}
