import { errors, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { RedemptionStore } from '../../stores/ports/index.js';
import type { SessionService } from '../sessions/session-service.js';
import { ASSERTION_ALG, ASSERTION_TYP, type AssertionKeys } from './assertion-keys.js';
import type { AssertionService } from './assertion-service.js';

/** How often (at most) an instance removes expired redemptions, and how many at a time. */
export const REDEMPTION_SWEEP = { everyMs: 60_000, batch: 100 } as const;
// Redemptions are kept this long past their assertion's exp: an instance whose clock runs
// behind still accepts the assertion for that long, and must still find it redeemed.
const KEEP_PAST_EXPIRY_MS = 5 * 60_000;

export interface Redeemed {
  readonly redeemedAt: Date;
  readonly userId: string;
  readonly assertionId: string;
}

/**
 * RedeemMfaAssertion: single use and revocation for the consumers that need
 * them (an offline check sees neither). Checks the assertion against the
 * published keys, then records the redemption durably (MongoDB, unique on
 * the jti), so that no second redemption passes on any instance, even after
 * Redis lost everything.
 */
export class RedemptionService {
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: {
      readonly assertions: AssertionService;
      readonly keys: AssertionKeys;
      readonly redemptions: RedemptionStore;
      readonly sessions: SessionService;
      readonly clock: Clock;
      readonly logger: Logger;
    },
  ) {}

  /**
   * `caller` is the authenticated caller's name, '' when calls are not
   * authenticated; with caller tokens on, only the assertion's audience may
   * redeem it, so that no other service can burn it.
   */
  async redeem(request: { token: string; audience: string; redemptionId: string; caller: string }): Promise<Redeemed> {
    const { issuer } = this.deps.assertions.configured();
    const now = this.deps.clock.now();
    const claims = await this.#verify(request.token, request.audience, issuer, now);
    if (request.caller !== '' && request.caller !== claims.aud) {
      throw new MfaError(ErrorReason.CALLER_NOT_AUDIENCE, 'only the caller named by the assertion\'s audience may redeem it');
    }
    const assertionId = claims.jti;
    const first = await this.deps.redemptions.find(assertionId);
    if (first !== null) return this.#answer(first, request.redemptionId);
    // Only a new redemption needs an unexpired assertion: a retry (above) may come after exp.
    if (claims.exp * 1000 <= now.getTime()) throw invalidAssertion('has expired');
    const revokedAt = await this.deps.sessions.revokedAt(claims.sub);
    // iat is in whole seconds: one issued in the second of a revocation counts as before it (errs towards refusing).
    if (revokedAt !== null && claims.iat <= Math.floor(revokedAt.getTime() / 1000)) {
      throw new MfaError(ErrorReason.ASSERTION_REVOKED, 'the assertion was issued before the user\'s sessions were revoked');
    }
    const stored = await this.deps.redemptions.insertIfAbsent({
      assertionId,
      redemptionId: request.redemptionId,
      userId: claims.sub,
      redeemedAt: now,
      expiresAt: new Date(claims.exp * 1000 + KEEP_PAST_EXPIRY_MS),
    });
    await this.#sweep(now);
    return this.#answer(stored, request.redemptionId);
  }

  #answer(stored: { redemptionId: string; redeemedAt: Date; userId: string; assertionId: string }, redemptionId: string): Redeemed {
    if (stored.redemptionId !== redemptionId) {
      throw new MfaError(ErrorReason.ASSERTION_ALREADY_USED, 'the assertion was redeemed already');
    }
    return { redeemedAt: stored.redeemedAt, userId: stored.userId, assertionId: stored.assertionId };
  }

  /**
   * Checks everything but exp strictly: an assertion up to KEEP_PAST_EXPIRY_MS
   * past its exp passes here, so that a retry whose first answer was lost
   * still finds its record; `redeem` refuses it when it is a new redemption.
   */
  async #verify(token: string, audience: string, issuer: string, now: Date) {
    try {
      const { payload } = await jwtVerify(token, await this.deps.keys.resolver(), {
        issuer,
        audience,
        algorithms: [ASSERTION_ALG],
        typ: ASSERTION_TYP,
        currentDate: now,
        clockTolerance: KEEP_PAST_EXPIRY_MS / 1000,
        requiredClaims: ['sub', 'iat', 'exp', 'jti', 'purpose'],
      });
      return payload as typeof payload & { sub: string; iat: number; exp: number; jti: string; aud: string };
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) throw error;
      throw invalidAssertion(describe(error), error);
    }
  }

  /**
   * Removes a bounded batch of expired redemptions after a redemption's
   * write, at most once a minute per instance unless the last batch was full
   * (then at the next redemption, so removal keeps up with any rate of
   * redemptions): FerretDB has no TTL indexes, and a batch bounds the work a
   * call adds. A failure costs nothing but a later try.
   */
  async #sweep(now: Date): Promise<void> {
    if (now.getTime() - this.#lastSweep < REDEMPTION_SWEEP.everyMs) return;
    this.#lastSweep = now.getTime();
    try {
      const removed = await this.deps.redemptions.removeExpired(now, REDEMPTION_SWEEP.batch);
      if (removed >= REDEMPTION_SWEEP.batch) this.#lastSweep = Number.NEGATIVE_INFINITY;
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'removing expired MFA assertion redemptions failed; the next sweep tries again');
    }
  }
}

/** INVALID_REQUEST with a BadRequest on mfa_assertion saying why (never the token). */
function invalidAssertion(description: string, cause?: unknown): MfaError {
  return new MfaError(ErrorReason.INVALID_REQUEST, 'invalid request: mfa_assertion', {
    fieldViolations: [{ field: 'mfa_assertion', description }],
    cause,
  });
}

/** Why an assertion was refused, in words for the BadRequest (never the token). */
function describe(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return 'has expired';
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') return 'is for another audience';
  if (error instanceof errors.JWTClaimValidationFailed) return `has a wrong or missing ${error.claim} claim`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'is signed by a key this service does not publish';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'has a signature that does not verify';
  return 'is not an MFA assertion of this service';
}
