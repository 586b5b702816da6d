import type { Clock, RandomBytes } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import { methodClaims, type AssertedMethod, type AssertionBinding } from '../../domain/mfa-assertion-claims.js';
import { signCompactEs256 } from '../../domain/compact-jws.js';
import type { AssertionKeys, Signer } from './assertion-keys.js';

/** A signed assertion, as the check's response carries it. */
export interface IssuedAssertion {
  readonly token: string;
  readonly jti: string;
  readonly expiresAt: Date;
}

/** What issuing needs once assertions are configured (MFA_ASSERTION_ISSUER). */
export interface AssertionSettings {
  readonly issuer: string;
  readonly ttlMs: number;
}

/**
 * Issues MFA assertions (issue 25): short-lived JWS that another service
 * checks offline, bound to an audience, a purpose and a transaction.
 * `prepare` runs before the code check (it refuses when assertions are not
 * configured, and opens the signing key, so that a spent code is never
 * left without its assertion); `issue` signs after the check passed.
 */
export class AssertionService {
  constructor(
    private readonly deps: {
      /** Null when MFA_ASSERTION_ISSUER is not set. */
      readonly settings: AssertionSettings | null;
      readonly keys: AssertionKeys;
      readonly clock: Clock;
      readonly random: RandomBytes;
    },
  ) {}

  /** The settings, or FAILED_PRECONDITION ASSERTIONS_NOT_CONFIGURED. */
  configured(): AssertionSettings {
    if (this.deps.settings === null) {
      throw new MfaError(ErrorReason.ASSERTIONS_NOT_CONFIGURED, 'MFA assertions are off on this service: MFA_ASSERTION_ISSUER is not set');
    }
    return this.deps.settings;
  }

  /** Refuses before any code is checked when assertions are off or no key can sign. */
  async prepare(): Promise<Signer> {
    this.configured();
    return this.deps.keys.signer();
  }

  /** Signs the assertion of a check that passed. */
  async issue(signer: Signer, userId: string, checked: AssertedMethod, binding: AssertionBinding): Promise<IssuedAssertion> {
    const { issuer, ttlMs } = this.configured();
    const issuedAt = Math.floor(this.deps.clock.now().getTime() / 1000);
    const expiresAt = issuedAt + Math.floor(ttlMs / 1000);
    const jti = this.deps.random(16).toString('base64url');
    const claims = { iss: issuer, aud: binding.audience, iat: issuedAt, exp: expiresAt, jti, ...methodClaims(userId, checked, binding) };
    const token = signCompactEs256(signer.encodedHeader, claims, signer.key);
    return { token, jti, expiresAt: new Date(expiresAt * 1000) };
  }
}
