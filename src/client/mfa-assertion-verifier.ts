import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { transactionHash, type MethodClaims } from '../domain/mfa-assertion-claims.js';

/** The claims of a verified MFA assertion (docs/assertions.md): the service's (MethodClaims), and the signer's. */
export interface MfaAssertionClaims extends Readonly<MethodClaims> {
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/** What a consumer expects of an assertion. */
export interface VerifyMfaAssertionOptions {
  /** This service's name: the assertion's aud. */
  readonly audience: string;
  /** What it approves, e.g. payments.transfer. */
  readonly purpose: string;
  /**
   * The transaction being approved, byte for byte as it was given to the
   * check (a string is taken as UTF-8). Without it, an assertion bound to a
   * transaction is refused: a consumer must know what it approves. An empty
   * one is none.
   */
  readonly transaction?: Uint8Array | string;
  /** Refuse a check that passed longer ago than this (auth_time), e.g. 60 for a step-up. */
  readonly maxAgeSeconds?: number;
}

/** Why an assertion was refused. */
export type MfaAssertionProblem = 'INVALID' | 'EXPIRED' | 'UNKNOWN_KEY' | 'WRONG_ISSUER' | 'WRONG_AUDIENCE' | 'WRONG_PURPOSE' | 'WRONG_TRANSACTION' | 'TOO_OLD';

/** An assertion that does not prove what the consumer asked; `problem` says why (the cause, jose's error, is for the log). */
export class MfaAssertionError extends Error {
  override readonly name = 'MfaAssertionError';
  constructor(
    readonly problem: MfaAssertionProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where the public keys come from, and how long they are cached. */
export interface MfaAssertionVerifierOptions {
  /** The service's MFA_ASSERTION_ISSUER: the iss every assertion must have. */
  readonly issuer: string;
  /** The JWK Set: fetched with GetMfaAssertionKeys (the typed client does this), as JSON. */
  readonly fetchKeys?: () => Promise<string>;
  /** Or from this URL (the service's /.well-known/jwks.json), through jose's remote set, cached for cacheMaxAgeMs (jose does not read Cache-Control). */
  readonly jwksUrl?: string | URL;
  /** How long fetched keys are used before they are fetched again. Default 10 minutes. */
  readonly cacheMaxAgeMs?: number;
  /** An unknown kid fetches the keys again, at most this often. Default 30 s. */
  readonly cooldownMs?: number;
  /** The time to check against (tests). Default: now. */
  readonly now?: () => Date;
}

const JWS_TYP = 'mfa-assertion+jwt';

/** Checks MFA assertions offline against the service's published keys, cached. */
export function createMfaAssertionVerifier(options: MfaAssertionVerifierOptions): { verify(token: string, expected: VerifyMfaAssertionOptions): Promise<MfaAssertionClaims> } {
  const keys = keySource(options);
  const now = options.now ?? (() => new Date());
  return {
    verify: async (token, expected) => {
      let claims: MfaAssertionClaims;
      try {
        const verified = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: expected.audience,
          algorithms: ['ES256'],
          typ: JWS_TYP,
          currentDate: now(),
          requiredClaims: ['sub', 'iat', 'exp', 'jti', 'auth_time', 'purpose', 'amr', 'mfa_method'],
        });
        claims = verified.payload as unknown as MfaAssertionClaims;
      } catch (error) {
        throw refusal(error);
      }
      if (claims.purpose !== expected.purpose) throw new MfaAssertionError('WRONG_PURPOSE', `the assertion is for ${JSON.stringify(claims.purpose)}, not ${JSON.stringify(expected.purpose)}`);
      // An empty transaction is none, as on the wire (proto bytes): the service binds no txn_hash for it.
      const hash = expected.transaction === undefined || expected.transaction.length === 0 ? undefined : transactionHash(expected.transaction);
      if (claims.txn_hash !== hash) throw new MfaAssertionError('WRONG_TRANSACTION', 'the assertion is bound to another transaction (or to one where none was expected)');
      if (expected.maxAgeSeconds !== undefined && now().getTime() / 1000 - claims.auth_time > expected.maxAgeSeconds) {
        throw new MfaAssertionError('TOO_OLD', `the check passed more than ${expected.maxAgeSeconds} s ago`);
      }
      return claims;
    },
  };
}

/** The key resolver: jose's remote set for a URL; else the fetched set, cached, and fetched again for an unknown kid. */
function keySource(options: MfaAssertionVerifierOptions): JWTVerifyGetKey {
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  if (options.jwksUrl !== undefined) {
    return createRemoteJWKSet(new URL(options.jwksUrl), { cacheMaxAge: cacheMaxAgeMs, cooldownDuration: cooldownMs });
  }
  const fetchKeys = options.fetchKeys;
  if (fetchKeys === undefined) throw new TypeError('createMfaAssertionVerifier needs fetchKeys or jwksUrl');
  let cached: { set: ReturnType<typeof createLocalJWKSet>; at: number } | null = null;
  let fetching: Promise<ReturnType<typeof createLocalJWKSet>> | null = null;
  const fetchSet = () =>
    (fetching ??= fetchKeys()
      .then((json) => {
        const set = createLocalJWKSet(JSON.parse(json) as JSONWebKeySet);
        cached = { set, at: Date.now() };
        return set;
      })
      .finally(() => (fetching = null)));
  return async (header, token) => {
    const fresh = cached !== null && Date.now() - cached.at < cacheMaxAgeMs;
    const set = fresh ? cached!.set : await fetchSet();
    try {
      return await set(header, token);
    } catch (error) {
      // A key published since the last fetch (a rotation): fetch again, but not for every forged kid.
      if (!(error instanceof errors.JWKSNoMatchingKey) || !fresh || Date.now() - cached!.at < cooldownMs) throw error;
      return (await fetchSet())(header, token);
    }
  };
}

function refusal(error: unknown): MfaAssertionError {
  if (!(error instanceof errors.JOSEError)) return new MfaAssertionError('INVALID', 'the assertion could not be checked', { cause: error });
  if (error instanceof errors.JWTExpired) return new MfaAssertionError('EXPIRED', 'the assertion has expired', { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey) return new MfaAssertionError('UNKNOWN_KEY', 'the assertion is signed by a key the service does not publish', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') return new MfaAssertionError('WRONG_AUDIENCE', 'the assertion is for another audience', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'iss') return new MfaAssertionError('WRONG_ISSUER', 'the assertion is from another issuer', { cause: error });
  return new MfaAssertionError('INVALID', `the assertion is not valid: ${error.message}`, { cause: error });
}
