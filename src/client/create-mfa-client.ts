import { credentials, Metadata, type ChannelOptions, type ClientUnaryCall, type handleUnaryCall, type ServiceError } from '@grpc/grpc-js';
import * as messages from '../gen/mfa/v1/mfa.js';
import { MfaServiceClient, MfaServiceService, type MfaServiceServer } from '../gen/mfa/v1/mfa.js';
import { MfaClientError } from './mfa-client-error.js';
import { createMfaAssertionVerifier, type MfaAssertionClaims, type VerifyMfaAssertionOptions } from './mfa-assertion-verifier.js';
import { retryServiceConfig, type RetryOptions } from './retry-service-config.js';

/** Where and how to reach the service. */
export interface MfaClientOptions {
  /** The service's address, `host:port` (any grpc-js target, e.g. `dns:///mfa.internal:50051`). */
  readonly address: string;
  /**
   * TLS; plaintext when left out. `ca` is the CA to trust (the system's roots
   * when left out); `cert` and `key` are this client's certificate for mutual
   * TLS (GRPC_TLS_CLIENT_CA on the service). PEM contents.
   */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  /** This caller's bearer token (MFA_AUTH_TOKENS on the service), sent as `authorization: Bearer <token>`. */
  readonly token?: string;
  /** The deadline of each call unless the call sets its own. Default 5000 ms. */
  readonly deadlineMs?: number;
  /** Retries of the reads on UNAVAILABLE (see RETRIED_READS); `false` turns them off. Default: 3 attempts. */
  readonly retry?: RetryOptions | false;
  /** More grpc-js channel options (keepalive, message sizes, ...). */
  readonly channelOptions?: ChannelOptions;
  /**
   * For verifyMfaAssertion: the service's MFA_ASSERTION_ISSUER, and where to
   * get its keys (GetMfaAssertionKeys over this client's channel, unless
   * jwksUrl names /.well-known/jwks.json); they are cached (10 minutes, or
   * cacheMaxAgeMs) and fetched again for an unknown key id.
   */
  readonly assertions?: { readonly issuer: string; readonly jwksUrl?: string | URL; readonly cacheMaxAgeMs?: number; readonly now?: () => Date };
}

/** Options of one call. */
export interface CallOptions {
  /** This call's deadline instead of the client's default. */
  readonly deadlineMs?: number;
  /** Cancels the call (it then fails CANCELLED). */
  readonly signal?: AbortSignal;
  /** Sent as x-request-id: the service logs it and records it in the audit trail. */
  readonly requestId?: string;
}

type Methods = typeof MfaServiceService;
type Rpc<K extends keyof Methods> = MfaServiceServer[K] extends handleUnaryCall<infer Req, infer Res>
  ? (request: Partial<Req>, options?: CallOptions) => Promise<Res>
  : never;

/**
 * mfa.v1.MfaService with one promise-returning method per RPC, named as in
 * the proto in camelCase (`verifyTotp`, `getMfaStatus`, ...). A failed call
 * rejects with an MfaClientError.
 */
export type MfaClient = { readonly [K in keyof Methods]: Rpc<K> } & {
  /**
   * Checks an MFA assertion offline (docs/assertions.md): its signature
   * against the service's published keys, iss, aud, exp, purpose, the
   * transaction's hash and, with maxAgeSeconds, auth_time. Resolves to its
   * claims; rejects with an MfaAssertionError. Needs the `assertions` option.
   */
  verifyMfaAssertion(token: string, expected: VerifyMfaAssertionOptions): Promise<MfaAssertionClaims>;
  /** Closes the channel; calls made after it fail. */
  close(): void;
};

type RawMethod = (request: unknown, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: unknown) => void) => ClientUnaryCall;
type RequestType = { fromPartial(request: object): object };

/**
 * A typed client for the MFA service: one channel, the bearer token on every
 * call, a default deadline per call, and gRPC's own retry policy for the
 * reads only (a code check is never retried behind the caller's back).
 *
 *   const mfa = createMfaClient({ address: 'mfa.internal:50051', token: process.env.MFA_TOKEN });
 *   const { enabled } = await mfa.getMfaStatus({ userId: 'alice' });
 */
export function createMfaClient(options: MfaClientOptions): MfaClient {
  const deadlineMs = options.deadlineMs ?? 5000;
  const channel =
    options.tls === undefined
      ? credentials.createInsecure()
      : credentials.createSsl(options.tls.ca ?? null, options.tls.key ?? null, options.tls.cert ?? null);
  const raw = new MfaServiceClient(options.address, channel, {
    ...options.channelOptions,
    'grpc.service_config': retryServiceConfig(options.retry ?? {}),
    // The retry policy is ours: a DNS TXT record must not replace it.
    'grpc.service_config_disable_resolution': 1,
    'grpc.enable_retries': 1,
  });

  const call = (name: keyof Methods) => {
    const method = (raw as unknown as Record<string, RawMethod>)[name]!;
    const rpcName = MfaServiceService[name].path.slice(MfaServiceService[name].path.lastIndexOf('/') + 1);
    const requestType = (messages as unknown as Record<string, RequestType>)[`${rpcName}Request`]!;
    return (request: object, callOptions: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const metadata = new Metadata();
        if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
        if (callOptions.requestId !== undefined) metadata.set('x-request-id', callOptions.requestId);
        // ts-proto writes a field left out as the text "undefined": fill in the proto defaults first.
        const pending = method.call(raw, requestType.fromPartial(request), metadata, { deadline: Date.now() + (callOptions.deadlineMs ?? deadlineMs) }, (error, response) => {
          callOptions.signal?.removeEventListener('abort', cancel);
          if (error) reject(new MfaClientError(error));
          else resolve(response);
        });
        const cancel = () => pending.cancel();
        if (callOptions.signal?.aborted) cancel();
        else callOptions.signal?.addEventListener('abort', cancel, { once: true });
      });
  };

  const client: Record<string, unknown> = { close: () => raw.close() };
  for (const name of Object.keys(MfaServiceService) as Array<keyof Methods>) client[name] = call(name);
  const { assertions } = options;
  const getKeys = client['getMfaAssertionKeys'] as MfaClient['getMfaAssertionKeys'];
  const verifier =
    assertions &&
    createMfaAssertionVerifier({ ...assertions, fetchKeys: async () => (await getKeys({})).jwksJson });
  client['verifyMfaAssertion'] = (token: string, expected: VerifyMfaAssertionOptions) => {
    if (verifier === undefined) return Promise.reject(new TypeError('verifyMfaAssertion needs the client option assertions: { issuer }'));
    return verifier.verify(token, expected);
  };
  return client as MfaClient;
}
