import { credentials, Metadata, status, type ChannelCredentials, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { BadRequest, ErrorInfo, RetryInfo } from '../../src/gen/google/rpc/error_details.js';
import { Status } from '../../src/gen/google/rpc/status.js';
import * as messages from '../../src/gen/mfa/v1/mfa.js';
import { MfaServiceClient, MfaServiceService, type MfaServiceServer } from '../../src/gen/mfa/v1/mfa.js';

/** The generated client with promise-returning methods (typed from the server interface). */
export type MfaClient = {
  [K in keyof MfaServiceServer as string extends K ? never : K]: MfaServiceServer[K] extends handleUnaryCall<infer Req, infer Res>
    ? (request: Partial<Req>, metadata?: Metadata) => Promise<Res>
    : never;
} & { close(): void };

/** A ts-proto client for the server on 127.0.0.1:port, with promise methods; plaintext unless `channel` says otherwise. */
export function connectClient(
  port: number,
  options: { channel?: ChannelCredentials; metadata?: () => Metadata; deadlineMs?: number } = {},
): MfaClient {
  const client = new MfaServiceClient(`127.0.0.1:${port}`, options.channel ?? credentials.createInsecure());
  return new Proxy({} as MfaClient, {
    get(_target, name: string) {
      if (name === 'close') return () => client.close();
      const method = (client as unknown as Record<string, Function>)[name];
      if (typeof method !== 'function') return undefined;
      // ts-proto's encode writes a missing string field as "undefined": fill in the defaults first.
      const rpcName = MfaServiceService[name as keyof typeof MfaServiceService].path.split('/').pop()!;
      const requestType = (messages as unknown as Record<string, { fromPartial(o: object): object }>)[`${rpcName}Request`]!;
      return (request: object, metadata = options.metadata?.() ?? new Metadata()) =>
        new Promise((resolve, reject) => {
          method.call(client, requestType.fromPartial(request), metadata, { deadline: Date.now() + (options.deadlineMs ?? 15_000) }, (error: ServiceError | null, response: unknown) =>
            error ? reject(error) : resolve(response),
          );
        });
    },
  });
}

/** What a failed call carried, decoded from grpc-status-details-bin. */
export interface RpcFailure {
  readonly code: status;
  readonly message: string;
  readonly reason: string;
  readonly domain: string;
  readonly badFields: string[];
  readonly retryDelayMs: number | null;
}

export function decodeFailure(error: ServiceError): RpcFailure {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  expect(raw, 'grpc-status-details-bin trailer').to.be.instanceOf(Buffer);
  const details = Status.decode(raw as Buffer);
  expect(details.code).to.equal(error.code);
  let reason = '';
  let domain = '';
  const badFields: string[] = [];
  let retryDelayMs: number | null = null;
  for (const any of details.details) {
    const type = any.typeUrl.replace('type.googleapis.com/', '');
    if (type === 'google.rpc.ErrorInfo') ({ reason, domain } = ErrorInfo.decode(any.value));
    if (type === 'google.rpc.BadRequest') badFields.push(...BadRequest.decode(any.value).fieldViolations.map((v) => v.field));
    if (type === 'google.rpc.RetryInfo') {
      const delay = RetryInfo.decode(any.value).retryDelay!;
      retryDelayMs = delay.seconds * 1000 + delay.nanos / 1e6;
    }
  }
  return { code: error.code, message: error.details, reason, domain, badFields, retryDelayMs };
}

/**
 * How a call ended, as one string: 'OK', 'CODE/REASON' (a status with the service's error details), or
 * just 'CODE' (a status without them, such as DEADLINE_EXCEEDED set by the client itself).
 */
export async function outcomeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    const e = error as ServiceError;
    return e.metadata?.get('grpc-status-details-bin').length ? `${status[e.code]}/${decodeFailure(e).reason}` : status[e.code];
  }
}

/** Awaits a call that must fail, checks its code and ErrorInfo reason, and returns the decoded failure. */
export async function expectFailure(call: Promise<unknown>, code: status, reason: string): Promise<RpcFailure> {
  let error: ServiceError | undefined;
  try {
    await call;
  } catch (caught) {
    error = caught as ServiceError;
  }
  expect(error, `expected ${status[code]} ${reason}, but the call succeeded`).to.not.equal(undefined);
  const failure = decodeFailure(error!);
  expect({ code: status[failure.code], reason: failure.reason, domain: failure.domain }).to.deep.equal({
    code: status[code],
    reason,
    domain: 'mfa.v1',
  });
  return failure;
}

/** Metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
