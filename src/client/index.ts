/**
 * `import { createMfaClient } from 'mfa-service/client'`: the typed client for
 * Node callers of mfa.v1.MfaService, and the message types of the contract.
 */
export { createMfaClient, type CallOptions, type MfaClient, type MfaClientOptions } from './create-mfa-client.js';
export { MfaClientError, type FieldViolation } from './mfa-client-error.js';
export {
  createMfaAssertionVerifier,
  MfaAssertionError,
  type MfaAssertionClaims,
  type MfaAssertionProblem,
  type MfaAssertionVerifierOptions,
  type VerifyMfaAssertionOptions,
} from './mfa-assertion-verifier.js';
export { RETRIED_IDEMPOTENT_WRITES, RETRIED_READS, type RetryOptions } from './retry-service-config.js';
export { ErrorReason } from '../domain/errors.js';
export { status } from '@grpc/grpc-js';
export { AuthenticatorKind, MfaServiceClient, SecurityEventType, TotpAlgorithm } from '../gen/mfa/v1/mfa.js';
export type * from '../gen/mfa/v1/mfa.js';
