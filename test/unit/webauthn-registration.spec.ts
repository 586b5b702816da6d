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

  describe('one credential, one user', () => {
    /** Two users registering keys that share one credential ID (a forged one): A's durable write held until `release`. */
    async function race(h: Harness) {
      const keyA = newKey();
      const keyB = newKey();
      (keyB as unknown as { credentialId: unknown }).credentialId = (keyA as unknown as { credentialId: unknown }).credentialId;
      const [a, b] = [await begin(h, 'A', false), await begin(h, 'B', false)];
      const { factors } = h.stores;
      const enable = factors.enable.bind(factors);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let heldA!: () => void;
      const held = new Promise<void>((resolve) => (heldA = resolve));
      factors.enable = async (userId, ...rest) => {
        if (userId === 'A') {
          heldA();
          await gate;
        }
        return enable(userId, ...rest);
      };
      const finishA = reasonOf(h.services.webauthnRegistration.finish({ userId: 'A', registrationId: a.registrationId, credentialJson: keyA.register(a.optionsJson), code: '', assertion: null }));
      await held;
      const finishB = (registrationId: string, optionsJson: string) =>
        reasonOf(h.services.webauthnRegistration.finish({ userId: 'B', registrationId, credentialJson: keyB.register(optionsJson), code: '', assertion: null }));
      return { finishA, finishB: () => finishB(b.registrationId, b.optionsJson), release, beginB: () => begin(h, 'B', false), finishBWith: finishB };
    }

    it('refuses a second user a credential whose first user is between claiming it and writing their document (CREDENTIAL_IN_USE)', async () => {
      const h = serviceHarness(ENV);
      const { finishA, finishB, release } = await race(h);
      expect(await finishB()).to.equal('CREDENTIAL_IN_USE');
      release();
      expect(await finishA).to.equal('OK');
      expect((await h.stores.factors.get('A'))?.enabled).to.equal(true);
      expect((await h.stores.factors.get('B'))?.enabled ?? false).to.equal(false);
    });

    it("lets another user take over a claim whose Finish never wrote, once MFA_WEBAUTHN_CHALLENGE_SECONDS passed since it", async () => {
      const h = serviceHarness({ ...ENV, MFA_WEBAUTHN_CHALLENGE_SECONDS: '60' });
      const { finishA, beginB, finishBWith } = await race(h);
      void finishA; // A's write never happens (the call was cut off)
      h.clock.advance(59_000);
      const early = await beginB();
      expect(await finishBWith(early.registrationId, early.optionsJson)).to.equal('CREDENTIAL_IN_USE');
      h.clock.advance(2_000);
      const late = await beginB();
      expect(await finishBWith(late.registrationId, late.optionsJson)).to.equal('OK');
    });
  });
});

