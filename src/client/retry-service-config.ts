/**
 * The RPCs a client may retry on UNAVAILABLE: the reads (issue 8, README
 * "Retrying calls"). Code checks (VerifyTotp, VerifyRecoveryCode, DisableMfa,
 * RegenerateRecoveryCodes, ConfirmTotpEnrollment, RemoveAuthenticator) are
 * never retried automatically: a code stays usable
 * after UNAVAILABLE unless its spend committed, and only the caller knows
 * whether to ask the user again. Other writes are not retried either.
 */
export const RETRIED_READS = [
  'GetMfaStatus',
  'CheckSession',
  'CheckRememberedDevice',
  'ListRememberedDevices',
  'ListAuditEvents',
  'ListAuthenticators',
  'GetMfaAssertionKeys',
] as const;

/**
 * Writes that a retry cannot repeat: RedeemMfaAssertion, whose retry carries
 * the same redemption_id (gRPC resends the same request), so that a
 * redemption whose answer was lost is answered OK, never ASSERTION_ALREADY_USED.
 */
export const RETRIED_IDEMPOTENT_WRITES = ['RedeemMfaAssertion'] as const;

/** How the reads are retried. */
export interface RetryOptions {
  /** Attempts in all, the first included: 2 to 5 (gRPC caps it at 5). Default 3. */
  readonly maxAttempts?: number;
  /** Backoff before the first retry, growing 2x up to maxBackoffMs; gRPC randomises each delay between 0 and it. Default 100 ms. */
  readonly initialBackoffMs?: number;
  /** Default 1000 ms. */
  readonly maxBackoffMs?: number;
}

/**
 * The gRPC service config (JSON, as grpc-js's `grpc.service_config` channel
 * option takes it) whose retryPolicy retries RETRIED_READS and
 * RETRIED_IDEMPOTENT_WRITES on UNAVAILABLE, and nothing else. With `false`, no retry policy at all.
 */
export function retryServiceConfig(retry: RetryOptions | false): string {
  if (retry === false) return JSON.stringify({ methodConfig: [] });
  const maxAttempts = retry.maxAttempts ?? 3;
  const initialBackoffMs = retry.initialBackoffMs ?? 100;
  const maxBackoffMs = retry.maxBackoffMs ?? 1000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 2 || maxAttempts > 5) throw new RangeError('retry.maxAttempts must be a whole number from 2 to 5');
  if (!(initialBackoffMs > 0 && maxBackoffMs >= initialBackoffMs)) throw new RangeError('retry backoffs must be positive, with maxBackoffMs >= initialBackoffMs');
  return JSON.stringify({
    methodConfig: [
      {
        name: [...RETRIED_READS, ...RETRIED_IDEMPOTENT_WRITES].map((method) => ({ service: 'mfa.v1.MfaService', method })),
        retryPolicy: {
          maxAttempts,
          initialBackoff: `${initialBackoffMs / 1000}s`,
          maxBackoff: `${maxBackoffMs / 1000}s`,
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  });
}
