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

  describe('what is refused and what counts', () => {
    const failures = async (h: Harness, userId: string) => (await h.stores.attempts.standing(userId)).failures;

    it('refuses a registration from a wrong origin or for a wrong RP ID as WEBAUTHN_INVALID, each counted', async () => {
      const h = serviceHarness(ENV);
      for (const [field, value] of [['origin', 'https://phish.example.net'], ['rpId', 'example.net']] as const) {
        const key = newKey();
        key[field] = value;
        const begun = await begin(h, 'cy', false);
        const finish = h.services.webauthnRegistration.finish({ userId: 'cy', registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson), code: '', assertion: null });
        expect(await reasonOf(finish), field).to.equal('WEBAUTHN_INVALID');
      }
      expect(await failures(h, 'cy')).to.equal(2);
      expect((await h.stores.factors.get('cy'))?.enabled ?? false).to.equal(false);
    });

    it('answers an authentication challenge given as a registration id CHALLENGE_NOT_FOUND, counting nothing', async () => {
      const h = serviceHarness(ENV);
      const key = newKey();
      const begun = await begin(h, 'dee', false);
      await h.services.webauthnRegistration.finish({ userId: 'dee', registrationId: begun.registrationId, credentialJson: key.register(begun.optionsJson), code: '', assertion: null });
      const added = await begin(h, 'dee', true);
      const challenge = await h.services.webauthnAuthentication.begin('dee');
      const finish = h.services.webauthnRegistration.finish({
        userId: 'dee', registrationId: challenge.challengeId, credentialJson: newKey().register(added.optionsJson), code: '', assertion: { challengeId: challenge.challengeId, credentialJson: key.assert(challenge.optionsJson) },
      });
      expect(await reasonOf(finish)).to.equal('CHALLENGE_NOT_FOUND');
      expect(await failures(h, 'dee')).to.equal(0);
      // Not taken either: the authentication challenge still works as one.
      const assertion = { challengeId: challenge.challengeId, credentialJson: key.assert(challenge.optionsJson) };
      expect(await reasonOf(h.services.verification.verifyWebAuthn({ userId: 'dee', assertion, rememberDevice: false, deviceLabel: '' }))).to.equal('OK');
    });

    it("counts a failed VerifyTotp of a user who has only keys", async () => {
      const h = serviceHarness(ENV);
      const begun = await begin(h, 'eve', false);
      await h.services.webauthnRegistration.finish({ userId: 'eve', registrationId: begun.registrationId, credentialJson: newKey().register(begun.optionsJson), code: '', assertion: null });
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'eve', code: '123456', rememberDevice: false, deviceLabel: '' }))).to.equal('INVALID_CODE');
      expect(await failures(h, 'eve')).to.equal(1);
    });
  });
});

