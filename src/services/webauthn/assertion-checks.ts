import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Logger } from 'pino';
import { runDetached } from '../../call-scope.js';
import type { Clock } from '../../domain/clock.js';
import { ErrorReason } from '../../domain/errors.js';
import { counterRegressed, type WebAuthnProof, type WebAuthnSettings } from '../../domain/webauthn.js';
import { isWebAuthn, type FactorRecord, type FactorStore, type WebAuthnChallengeStore } from '../../stores/ports/index.js';
import type { CheckFailure } from '../code-checks/lockout.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import { challengeNotFound, requireSettings } from './webauthn-errors.js';
import { failureLabel, type FailureLabel } from './failure-label.js';

/** A WebAuthnAssertion as the handlers pass it on: the challenge it answers and the browser's AuthenticationResponseJSON. */
export interface AssertionInput {
  readonly challengeId: string;
  readonly credentialJson: string;
}

/** A security key's assertion that passed its checks: the proof to spend, and what it said of the user and the key. */
export interface PassedAssertion extends WebAuthnProof {
  readonly userVerified: boolean;
  /** The credential is backed up (a synced passkey), as the assertion's flags say. */
  readonly backedUp: boolean;
}

/**
 * Checks a security key's assertion against a user's record, for every call
 * that takes one (VerifyWebAuthn and the webauthn_assertion of Confirm,
 * Disable, Regenerate, Remove, FinishWebAuthnRegistration):
 * 1. takes the challenge, atomically and once, on any instance: an unknown,
 *    expired, used, another user's or a registration's challenge is
 *    CHALLENGE_NOT_FOUND and counts nothing (the losers of a race of one
 *    assertion cannot lock the user out before the winner);
 * 2. verifies the assertion (@simplewebauthn/server: origin, RP ID, type,
 *    challenge, signature, user presence and, when MFA_WEBAUTHN_USER_VERIFICATION
 *    is required, verification), then the counter (a regression records
 *    WEBAUTHN_COUNTER_REGRESSED: a possibly cloned key).
 * A failed check is WEBAUTHN_INVALID, which the caller counts through the
 * lockout gate (CodeChecks.spend); that gate also answers LOCKED_OUT while
 * the user is locked out, whatever the assertion (its challenge is used then:
 * one Redis round trip less for every login than asking first). The log says which check failed; the wire does not.
 */
export class AssertionChecks {
  constructor(
    private readonly deps: {
      readonly settings: WebAuthnSettings | null;
      readonly challenges: WebAuthnChallengeStore;
      readonly factors: FactorStore;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
      readonly logger: Logger;
    },
  ) {}

  async check(record: FactorRecord, input: AssertionInput): Promise<PassedAssertion | CheckFailure> {
    const settings = requireSettings(this.deps.settings);
    const { userId } = record;
    const challenge = await this.deps.challenges.take(userId, 'authentication', input.challengeId);
    // Redis's TTL ends it too; the time is checked here as well, so that it ends on the service's clock.
    if (challenge === null || challenge.expiresAt.getTime() <= this.deps.clock.now().getTime()) throw challengeNotFound();
    const refuse = (check: FailureLabel, detail?: Record<string, unknown>): CheckFailure => {
      this.deps.logger.info({ userId, check, ...detail }, "a security key's answer was refused");
      return { failure: ErrorReason.WEBAUTHN_INVALID };
    };
    let response: AuthenticationResponseJSON;
    try {
      response = JSON.parse(input.credentialJson) as AuthenticationResponseJSON;
    } catch {
      return refuse('other', { detail: 'credential_json is not JSON' });
    }
    const key = record.authenticators.filter(isWebAuthn).find((a) => a.credentialId === response?.id);
    if (key === undefined) return refuse('other', { detail: "not one of the user's credentials" });
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: [...settings.origins],
        expectedRPID: settings.rpId,
        // The counter is compared below, where a regression can be told from other failures.
        credential: { id: key.credentialId, publicKey: Buffer.from(key.publicKey, 'base64url'), counter: 0, transports: [] },
        requireUserVerification: settings.userVerification === 'required',
      });
    } catch (error) {
      return refuse(failureLabel(error));
    }
    if (!verified.verified) return refuse('signature');
    const signCount = verified.authenticationInfo.newCounter;
    if (counterRegressed(key.signCount, signCount)) {
      const event = this.deps.events.make(userId, 'WEBAUTHN_COUNTER_REGRESSED', { authenticatorId: key.authenticatorId });
      // Also when the call was cut off just now: the regression happened all the same.
      await runDetached(() => this.deps.factors.recordEvents(userId, [event])).catch((error: unknown) =>
        this.deps.logger.error({ err: error, userId }, 'the WEBAUTHN_COUNTER_REGRESSED event was not recorded'),
      );
      this.deps.logger.warn({ userId, authenticatorId: key.authenticatorId, stored: key.signCount, received: signCount }, 'a security key counter went backwards: possibly a cloned key');
      return refuse('counter');
    }
    return {
      authenticatorId: key.authenticatorId,
      signCount,
      previousSignCount: key.signCount,
      userVerified: verified.authenticationInfo.userVerified,
      backedUp: verified.authenticationInfo.credentialBackedUp,
    };
  }
}
