import { generateAuthenticationOptions } from '@simplewebauthn/server';
import type { Clock, RandomBytes } from '../../domain/clock.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { WebAuthnSettings } from '../../domain/webauthn.js';
import { isWebAuthn, type FactorStore, type WebAuthnChallengeStore } from '../../stores/ports/index.js';
import { requireSettings } from './webauthn-errors.js';

/**
 * BeginWebAuthnAuthentication: a challenge for the user's security keys,
 * kept in Redis for MFA_WEBAUTHN_CHALLENGE_SECONDS and used at most once
 * (AssertionChecks takes it), by VerifyWebAuthn or as the webauthn_assertion
 * of another call.
 */
export class AuthenticationService {
  constructor(
    private readonly deps: {
      readonly settings: WebAuthnSettings | null;
      readonly factors: FactorStore;
      readonly challenges: WebAuthnChallengeStore;
      readonly clock: Clock;
      readonly random: RandomBytes;
    },
  ) {}

  async begin(userId: string): Promise<{ challengeId: string; optionsJson: string; expiresAt: Date }> {
    const settings = requireSettings(this.deps.settings);
    const record = await this.deps.factors.get(userId);
    const keys = record?.enabled ? record.authenticators.filter(isWebAuthn) : [];
    if (keys.length === 0) throw new MfaError(ErrorReason.MFA_NOT_ENABLED, 'this user has no security key (or MFA is not enabled)');
    const { random, clock } = this.deps;
    const options = await generateAuthenticationOptions({
      rpID: settings.rpId,
      allowCredentials: keys.map((key) => ({ id: key.credentialId, transports: key.transports as never[] })),
      challenge: new Uint8Array(random(32)),
      timeout: settings.challengeMs,
      userVerification: settings.userVerification,
    });
    const expiresAt = new Date(clock.now().getTime() + settings.challengeMs);
    const challengeId = `wch_${random(16).toString('base64url')}`;
    await this.deps.challenges.put({ challengeId, userId, purpose: 'authentication', challenge: options.challenge, expiresAt });
    return { challengeId, optionsJson: JSON.stringify(options), expiresAt };
  }
}
