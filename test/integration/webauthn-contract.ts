import { expect } from 'chai';
import type { WebAuthnAuthenticatorRecord } from '../../src/stores/ports/index.js';
import { codes, FIRST, newUser, type StoreFixture } from './contract-support.js';

/** A security key's entry, as the contract tests enable with. */
function key(at: Date, signCount = 0): WebAuthnAuthenticatorRecord {
  return {
    authenticatorId: FIRST,
    kind: 'webauthn',
    label: 'Security key',
    credentialId: `cred-${FIRST}`,
    publicKey: 'cose',
    signCount,
    transports: ['usb'],
    aaguid: '00000000-0000-0000-0000-000000000000',
    backupEligible: false,
    backedUp: false,
    createdAt: at,
    lastUsedAt: null,
  };
}

/** The rules of security keys' state (issue 23) every adapter shares: challenges, claims, the user handle, the counter. */
export function webauthnStoresContract(fixture: () => StoreFixture): void {
  describe('security keys (WebAuthn)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });
    const challengeFor = (userId: string, challengeId: string, purpose: 'registration' | 'authentication' = 'authentication', ttlMs = 60_000) => ({
      challengeId,
      userId,
      purpose,
      challenge: 'c-' + challengeId,
      expiresAt: new Date(s.clock.now().getTime() + ttlMs),
      ...(purpose === 'registration' ? { registration: { authenticatorId: FIRST, label: 'Key', adding: false } } : {}),
    });

    it('takes a challenge once, only for its user and purpose', async () => {
      const user = newUser();
      await s.challenges.put(challengeFor(user, 'wch_1'));
      expect(await s.challenges.take(newUser(), 'authentication', 'wch_1')).to.equal(null);
      expect(await s.challenges.take(user, 'registration', 'wch_1')).to.equal(null);
      expect(await s.challenges.take(user, 'authentication', 'wch_1')).to.deep.include({ userId: user, challenge: 'c-wch_1' });
      expect(await s.challenges.take(user, 'authentication', 'wch_1')).to.equal(null);
    });

    it('gives one of many concurrent takes of a challenge the challenge', async () => {
      const user = newUser();
      await s.challenges.put(challengeFor(user, 'wch_race'));
      const taken = await Promise.all(Array.from({ length: 20 }, () => s.challenges.take(user, 'authentication', 'wch_race')));
      expect(taken.filter((t) => t !== null)).to.have.length(1);
    });

    it('forgets a challenge once it expires', async () => {
      const user = newUser();
      await s.challenges.put(challengeFor(user, 'wch_old', 'authentication', 300));
      await s.elapse(400);
      expect(await s.challenges.take(user, 'authentication', 'wch_old')).to.equal(null);
    });

    it('records the first outcome of a registration only, keeping the registration for retries', async () => {
      const user = newUser();
      await s.challenges.put(challengeFor(user, 'reg_1', 'registration'));
      const keepUntil = new Date(s.clock.now().getTime() + 120_000);
      const outcomes = await Promise.all(['a', 'b', 'c'].map((o) => s.challenges.settle(user, 'reg_1', o, keepUntil)));
      expect(new Set(outcomes).size).to.equal(1);
      expect(await s.challenges.outcome(user, 'reg_1')).to.equal(outcomes[0]);
      expect(await s.challenges.get(user, 'registration', 'reg_1')).to.deep.include({ registration: { authenticatorId: FIRST, label: 'Key', adding: false } });
      expect(await s.challenges.settle(user, 'reg_none', 'x', keepUntil)).to.equal(null);
    });

    it('claims a credential for its first user; a reclaim moves it only from the user it names, once its lease ran out', async () => {
      const [a, b, c] = [newUser(), newUser(), newUser()];
      const credentialId = `cred-${a}`;
      const at = (ms: number) => new Date(1_800_000_000_000 + ms);
      expect(await s.credentialClaims.claim(credentialId, a, at(0))).to.equal(a);
      expect(await s.credentialClaims.claim(credentialId, b, at(1))).to.equal(a);
      expect(await s.credentialClaims.reclaim(credentialId, c, b, at(2), at(10))).to.equal(false);
      // a renews its lease at 20: claimed before 10 no longer, so b cannot take it yet.
      expect(await s.credentialClaims.claim(credentialId, a, at(20))).to.equal(a);
      expect(await s.credentialClaims.reclaim(credentialId, a, b, at(21), at(10))).to.equal(false);
      expect(await s.credentialClaims.reclaim(credentialId, a, b, at(30), at(20))).to.equal(false);
      expect(await s.credentialClaims.reclaim(credentialId, a, b, at(31), at(21))).to.equal(true);
      expect(await s.credentialClaims.claim(credentialId, c, at(32))).to.equal(b);
    });

    it('gives one of concurrent reclaims of a claim whose lease ran out the claim', async () => {
      const [a, ...others] = [newUser(), newUser(), newUser(), newUser(), newUser()];
      const credentialId = `cred-race-${a}`;
      const at = (ms: number) => new Date(1_800_000_000_000 + ms);
      await s.credentialClaims.claim(credentialId, a, at(0));
      const won = await Promise.all(others.map((to) => s.credentialClaims.reclaim(credentialId, a, to, at(50), at(10))));
      expect(won.filter(Boolean)).to.have.length(1);
      expect(await s.credentialClaims.claim(credentialId, a, at(60))).to.equal(others[won.indexOf(true)]);
    });

    it('keeps the first user handle, also after MFA is turned off', async () => {
      const user = newUser();
      expect(await s.factors.userHandle(user, 'h-first')).to.equal('h-first');
      expect(await s.factors.userHandle(user, 'h-second')).to.equal('h-first');
      const at = new Date(Math.floor(s.clock.now().getTime()));
      await s.factors.enable(user, { authenticator: key(at), enabledAt: at, recoveryCodes: codes('k1', 'h1'), sessionsRevokedAt: at, events: [] });
      await s.factors.reset(user, at, []);
      expect((await s.factors.get(user))!.webauthnUserHandle).to.equal('h-first');
    });

    it('moves a key\'s counter only from the value a proof read: of concurrent spends, one wins', async () => {
      const user = newUser();
      const at = new Date(Math.floor(s.clock.now().getTime()));
      await s.factors.enable(user, { authenticator: key(at, 5), enabledAt: at, recoveryCodes: codes('k1', 'h1'), sessionsRevokedAt: at, events: [] });
      const spends = await Promise.all(
        [6, 7, 8].map((signCount) => s.factors.spendProof(user, { authenticatorId: FIRST, signCount, previousSignCount: 5 }, { usedAt: at })),
      );
      expect(spends.filter((r) => r !== null)).to.have.length(1);
      const stored = (await s.factors.get(user))!.authenticators[0] as WebAuthnAuthenticatorRecord;
      expect([6, 7, 8]).to.include(stored.signCount);
      expect(stored.lastUsedAt!.getTime()).to.equal(at.getTime());
      expect(await s.factors.spendProof(user, { authenticatorId: FIRST, signCount: 9, previousSignCount: 5 }, {})).to.equal(null);
      // The backup state the assertion said is kept with the counter (a passkey synced since its registration).
      await s.factors.spendProof(user, { authenticatorId: FIRST, signCount: 20, previousSignCount: stored.signCount, backedUp: true }, {});
      expect((await s.factors.get(user))!.authenticators[0]).to.deep.include({ signCount: 20, backedUp: true });
    });
  });
}
