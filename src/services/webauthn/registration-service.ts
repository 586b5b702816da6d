import { generateRegistrationOptions, verifyRegistrationResponse, type RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Logger } from 'pino';
import type { Clock, RandomBytes } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { RecoveryCodes } from '../../domain/recovery-codes.js';
import type { SecretBox } from '../../domain/secret-box.js';
import { mintAuthenticatorId } from '../../domain/authenticators.js';
import { DEFAULT_WEBAUTHN_LABEL, type WebAuthnSettings } from '../../domain/webauthn.js';
import {
  isWebAuthn,
  NO_FAILURES,
  type CredentialClaimStore,
  type FactorStore,
  type WebAuthnAuthenticatorRecord,
  type WebAuthnChallenge,
  type WebAuthnChallengeStore,
} from '../../stores/ports/index.js';
import type { CodeChecks, CodeOrAssertion } from '../code-checks/code-checks.js';
import { enabledRecordForWrite } from '../code-checks/enabled-record.js';
import { spendOnCurrent } from '../code-checks/spend-on-current.js';
import { alreadyEnabled, authenticatorLimit, existingProofRequired, proofViolation } from '../enrollment/enrollment-errors.js';
import type { SecurityEventFactory } from '../security-events/security-event-factory.js';
import type { SessionService } from '../sessions/session-service.js';
import { answerOf, holds, outcomeCodeSet, parseOutcome, proposeOutcome, serializeOutcome, type FinishedRegistration, type Outcome } from './registration-outcome.js';
import { sameCodes } from '../enrollment/same-codes.js';
import { claimCredential } from './claim-credential.js';
import { failureLabel } from './failure-label.js';
import { challengeNotFound, requireSettings } from './webauthn-errors.js';
import { installAttestationRoots, screenAttestation } from './attestation-policy.js';

/** COSE algorithms offered and accepted: Ed25519, ES256, RS256 (the library's defaults, stated). */
const ALGORITHMS = [-8, -7, -257];

export interface BeginRegistration {
  readonly userId: string;
  readonly userName: string;
  readonly userDisplayName: string;
  readonly authenticatorLabel: string;
  readonly addAuthenticator: boolean;
}

export interface FinishRegistration extends CodeOrAssertion {
  readonly userId: string;
  readonly registrationId: string;
  readonly credentialJson: string;
}

export type { FinishedRegistration } from './registration-outcome.js';

/**
 * BeginWebAuthnRegistration and FinishWebAuthnRegistration: a security key
 * or passkey as the first factor (what ConfirmTotpEnrollment does: MFA on,
 * recovery codes, sessions revoked, devices forgotten) or as an additional
 * one (proved with a code or another key's assertion).
 *
 * Finish is idempotent, as Confirm is: its first verified outcome (the
 * authenticator, the recovery codes sealed) is recorded with the
 * registration in Redis before the durable write, and kept until
 * MFA_WEBAUTHN_CHALLENGE_SECONDS later; a retry with the same credential
 * finishes the same way and answers the same. A call cut off before the
 * durable write leaves only that record and a credential claim that names a
 * user who does not hold the key (reclaimable once its lease has run
 * out): nothing durable is burned.
 */
export class RegistrationService {
  constructor(
    private readonly deps: {
      readonly settings: WebAuthnSettings | null;
      readonly factors: FactorStore;
      readonly challenges: WebAuthnChallengeStore;
      readonly claims: CredentialClaimStore;
      readonly codeChecks: CodeChecks;
      readonly sessions: SessionService;
      readonly box: SecretBox;
      readonly recoveryCodes: RecoveryCodes;
      readonly events: SecurityEventFactory;
      readonly clock: Clock;
      readonly random: RandomBytes;
      readonly maxAuthenticators: number;
      readonly logger: Logger;
    },
  ) {
    installAttestationRoots(deps.settings);
  }

  async begin(request: BeginRegistration): Promise<{ registrationId: string; optionsJson: string; expiresAt: Date }> {
    const settings = requireSettings(this.deps.settings);
    const { userId, addAuthenticator } = request;
    const record = await this.deps.factors.get(userId);
    if (!addAuthenticator && record?.enabled) throw alreadyEnabled();
    if (addAuthenticator && !record?.enabled) throw new MfaError(ErrorReason.MFA_NOT_ENABLED, 'MFA is not enabled for this user');
    if (addAuthenticator && record!.authenticators.length >= this.deps.maxAuthenticators) throw authenticatorLimit(this.deps.maxAuthenticators);
    const { random, clock } = this.deps;
    // WebAuthn §14.6.1: a random handle, never the user id; kept across DisableMfa and ResetMfa.
    const handle = await this.deps.factors.userHandle(userId, random(32).toString('base64url'));
    const options = await generateRegistrationOptions({
      rpName: settings.rpName,
      rpID: settings.rpId,
      userName: request.userName,
      userID: Buffer.from(handle, 'base64url'),
      userDisplayName: request.userDisplayName === '' ? request.userName : request.userDisplayName,
      challenge: new Uint8Array(random(32)),
      timeout: settings.challengeMs,
      attestationType: settings.attestation,
      excludeCredentials: (record?.enabled ? record.authenticators.filter(isWebAuthn) : []).map((a) => ({
        id: a.credentialId,
        transports: a.transports as never[],
      })),
      authenticatorSelection: {
        residentKey: settings.residentKey,
        requireResidentKey: settings.residentKey === 'required',
        userVerification: settings.userVerification,
      },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    const expiresAt = new Date(clock.now().getTime() + settings.challengeMs);
    const registrationId = `reg_${random(16).toString('base64url')}`;
    await this.deps.challenges.put({
      challengeId: registrationId,
      userId,
      purpose: 'registration',
      challenge: options.challenge,
      expiresAt,
      registration: {
        authenticatorId: mintAuthenticatorId(random),
        label: request.authenticatorLabel === '' ? DEFAULT_WEBAUTHN_LABEL : request.authenticatorLabel,
        adding: addAuthenticator,
      },
    });
    return { registrationId, optionsJson: JSON.stringify(options), expiresAt };
  }

  async finish(request: FinishRegistration): Promise<FinishedRegistration> {
    const settings = requireSettings(this.deps.settings);
    const { userId, registrationId } = request;
    const registration = await this.deps.challenges.get(userId, 'registration', registrationId);
    if (registration === null) throw challengeNotFound('registration');
    const { adding } = registration.registration!;
    if (!adding && request.code !== '') throw proofViolation('existing_code', 'must be empty when registering the first authenticator');
    if (!adding && request.assertion) throw proofViolation('webauthn_assertion', 'must be unset when registering the first authenticator');
    if (adding && request.code === '' && !request.assertion) throw existingProofRequired();
    const response = JSON.parse(request.credentialJson) as RegistrationResponseJSON;
    const recordedText = await this.deps.challenges.outcome(userId, registrationId);
    const recorded = recordedText === null ? null : parseOutcome(recordedText);
    // Redis's TTL ends it too; checked on the service's clock as well. A finished one is kept longer, for retries.
    if (recorded === null && registration.expiresAt.getTime() <= this.deps.clock.now().getTime()) throw challengeNotFound('registration');
    // Finished with another key already: this registration is spent.
    if (recorded !== null && recorded.credentialId !== response.id) throw challengeNotFound('registration');
    const [record, verified] = await Promise.all([this.deps.factors.get(userId), this.#verify(settings, registration, response)]);
    if (recorded !== null && verified !== null && record?.enabled && holds(record, recorded.authenticator)) {
      // Durable already: the answer (recovery codes included) again, only to the same verified response, as
      // Confirm's only to the same code, and only while it is still true (RegenerateRecoveryCodes has not
      // replaced the codes); not a check (it neither clears nor counts failures).
      if (!adding && !sameCodes(record, outcomeCodeSet(this.deps, registration, recorded))) throw alreadyEnabled();
      return this.deps.codeChecks.replay(userId, () => answerOf(this.deps, registration, recorded));
    }
    const now = this.deps.clock.now();
    if (adding) return this.#add(registration, verified, request, recorded, now);
    if (record?.enabled) throw alreadyEnabled();
    const user = record ?? { userId, enabled: false, failures: NO_FAILURES, version: 0 };
    const check = verified === null ? { failure: ErrorReason.WEBAUTHN_INVALID } : { authenticatorId: verified.authenticatorId, signCount: 0, previousSignCount: 0 };
    return this.deps.codeChecks.spend(user, check, async () => {
      await claimCredential(this.deps, verified!.credentialId, userId, record, this.#lease());
      const outcome = await this.#fix(registration, recorded ?? proposeOutcome(this.deps, registration, verified!, now, record), now);
      return this.#turnOn(registration, outcome);
    });
  }

  /** The registration response, checked by @simplewebauthn/server; null (logged) when it is not valid. */
  async #verify(settings: WebAuthnSettings, registration: WebAuthnChallenge, response: RegistrationResponseJSON): Promise<WebAuthnAuthenticatorRecord | null> {
    const { userId } = registration;
    try {
      const verified = await verifyRegistrationResponse({
        response: screenAttestation(settings, response),
        expectedChallenge: registration.challenge,
        expectedOrigin: [...settings.origins],
        expectedRPID: settings.rpId,
        requireUserVerification: settings.userVerification === 'required',
        supportedAlgorithmIDs: ALGORITHMS,
      });
      if (!verified.verified) throw new Error('signature not verified');
      const info = verified.registrationInfo;
      const { authenticatorId, label } = registration.registration!;
      return {
        authenticatorId,
        kind: 'webauthn',
        label,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        signCount: info.credential.counter,
        transports: response.response.transports ?? [],
        aaguid: info.aaguid,
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
        createdAt: new Date(0),
        lastUsedAt: null,
      };
    } catch (error) {
      this.deps.logger.info({ userId, check: failureLabel(error) }, "a security key's registration was refused");
      return null;
    }
  }

  /** An additional key: the proof (a code or another key's assertion) is spent and the key added in one durable write. */
  async #add(
    registration: WebAuthnChallenge,
    verified: WebAuthnAuthenticatorRecord | null,
    proof: CodeOrAssertion,
    recorded: Outcome | null,
    now: Date,
  ): Promise<FinishedRegistration> {
    const { userId } = registration;
    const record = await enabledRecordForWrite(this.deps.factors, userId);
    const { codeChecks, maxAuthenticators } = this.deps;
    const existing = await codeChecks.given(record, proof, now);
    // Both are checked; one call counts as one failure whichever is wrong.
    const check = verified === null ? { failure: ErrorReason.WEBAUTHN_INVALID } : existing;
    return codeChecks.spend(record, check, async (spendable) => {
      if (record.authenticators.length >= maxAuthenticators) throw authenticatorLimit(maxAuthenticators);
      await claimCredential(this.deps, verified!.credentialId, userId, record, this.#lease());
      const outcome = await this.#fix(registration, recorded ?? proposeOutcome(this.deps, registration, verified!, now, record), now);
      const spent = await spendOnCurrent(this.deps, spendable, record, (current) => {
        if (current.authenticators.length >= maxAuthenticators) throw authenticatorLimit(maxAuthenticators);
        const { authenticatorId } = outcome.authenticator;
        const events = [this.deps.events.make(userId, 'AUTHENTICATOR_ADDED', { authenticatorId, authenticatorKind: 'webauthn' })];
        return { change: { addAuthenticator: outcome.authenticator, usedAt: now, events }, result: null };
      });
      return spent && answerOf(this.deps, registration, outcome);
    });
  }

  /** Turns MFA on with the key, only if the user's record is still the version the outcome was fixed on. */
  async #turnOn(registration: WebAuthnChallenge, outcome: Outcome): Promise<FinishedRegistration> {
    const { userId } = registration;
    const recoveryCodes = outcomeCodeSet(this.deps, registration, outcome);
    await this.deps.sessions.announce(userId, outcome.enabledAt);
    const { authenticatorId } = outcome.authenticator;
    const enabled = await this.deps.factors.enable(userId, {
      authenticator: outcome.authenticator,
      enabledAt: outcome.enabledAt,
      recoveryCodes,
      sessionsRevokedAt: outcome.enabledAt,
      ifVersion: outcome.recordVersion,
      events: [this.deps.events.make(userId, 'MFA_ENABLED', { authenticatorId, authenticatorKind: 'webauthn' })],
    });
    if (enabled) return answerOf(this.deps, registration, outcome);
    const current = await this.deps.factors.get(userId);
    if (current?.enabled && holds(current, outcome.authenticator) && sameCodes(current, recoveryCodes)) return answerOf(this.deps, registration, outcome);
    if (current?.enabled) throw alreadyEnabled();
    throw challengeNotFound('registration (the user\'s MFA state changed before it was finished)');
  }

  /** A credential claim's lease: as long as a registration lives, which no Finish in flight outlives. */
  #lease(): { now: Date; leaseMs: number } {
    return { now: this.deps.clock.now(), leaseMs: this.deps.settings!.challengeMs };
  }

  /** Records the outcome with the registration, once: the first recorded is the one every retry finishes. */
  async #fix(registration: WebAuthnChallenge, proposed: Outcome, now: Date): Promise<Outcome> {
    const keepUntil = new Date(now.getTime() + this.deps.settings!.challengeMs);
    const recorded = await this.deps.challenges.settle(registration.userId, registration.challengeId, serializeOutcome(proposed), keepUntil);
    if (recorded === null) throw challengeNotFound('registration');
    const outcome = parseOutcome(recorded);
    if (outcome.credentialId !== proposed.credentialId) throw challengeNotFound('registration');
    return outcome;
  }
}
