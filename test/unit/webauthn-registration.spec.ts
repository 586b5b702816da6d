import { expect } from 'chai';
import { reasonOf, serviceHarness } from '../support/service-harness.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

const ORIGIN = 'https://app.example.com';
const RP_ID = 'example.com';
const ENV = { MFA_WEBAUTHN_RP_ID: RP_ID, MFA_WEBAUTHN_ORIGINS: ORIGIN };

function newKey(): SoftAuthenticator {
  return new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
}

type Harness = ReturnType<typeof serviceHarness>;

function begin(h: Harness, userId: string, addAuthenticator: boolean) {
  return h.services.webauthnRegistration.begin({ userId, userName: `${userId}@example.com`, userDisplayName: '', authenticatorLabel: '', addAuthenticator });
}

describe('RegistrationService: FinishWebAuthnRegistration (in-memory stores, fake clock)', () => {
  it("answers a retried addition with the user's enabled_at, as its first answer did", async () => {
    const h = serviceHarness(ENV);
    const enrolled = await h.enroll('ada');
    h.clock.advance(3_600_000);
    const begun = await begin(h, 'ada', true);
    const credentialJson = newKey().register(begun.optionsJson);
    const finish = () => h.services.webauthnRegistration.finish({ userId: 'ada', registrationId: begun.registrationId, credentialJson, code: h.code(enrolled.secret), assertion: null });
    const first = await finish();
    h.clock.advance(1_000);
    const retry = await finish();
    expect(first.enabledAt.getTime()).to.equal(enrolled.enabledAt.getTime());
    expect(retry.enabledAt.getTime()).to.equal(first.enabledAt.getTime());
    expect(retry.authenticatorId).to.equal(first.authenticatorId);
  });

  it('refuses a retried first-factor Finish once RegenerateRecoveryCodes replaced its codes (MFA_ALREADY_ENABLED)', async () => {
    const h = serviceHarness(ENV);
    const key = newKey();
    const begun = await begin(h, 'bea', false);
    const credentialJson = key.register(begun.optionsJson);
    const finish = () => h.services.webauthnRegistration.finish({ userId: 'bea', registrationId: begun.registrationId, credentialJson, code: '', assertion: null });
    const first = await finish();
    expect((await finish()).recoveryCodes).to.deep.equal(first.recoveryCodes);
    const challenge = await h.services.webauthnAuthentication.begin('bea');
    await h.services.verification.regenerateRecoveryCodes({ userId: 'bea', code: '', assertion: { challengeId: challenge.challengeId, credentialJson: key.assert(challenge.optionsJson) } });
    expect(await reasonOf(finish())).to.equal('MFA_ALREADY_ENABLED');
  });
});
