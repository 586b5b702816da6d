import { expect } from 'chai';
import type { Redemption, StoredSigningKey } from '../../src/stores/ports/index.js';
import { newUser, type StoreFixture } from './contract-support.js';

/** The rules of the MFA assertion stores (issue 25): insert-if-absent on a unique id, conditional reseal, bounded expiry. */
export function assertionStoresContract(fixture: () => StoreFixture): void {
  describe('MFA assertion keys and redemptions (MongoDB)', () => {
    let s: StoreFixture;
    beforeEach(() => {
      s = fixture();
    });
    // Slots and ids of their own: the real stores are shared by every test of the run.
    const slot = () => 1_000 + Math.floor(Math.random() * 1e9);
    const key = (n: number, sealed: string): StoredSigningKey => ({
      kid: `kid-${n}`,
      slot: n,
      publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
      sealedPrivateKey: sealed,
      createdAt: new Date(Date.UTC(2026, 0, 1)),
      notBefore: new Date(Date.UTC(2026, 0, 31)),
    });
    const redemption = (overrides: Partial<Redemption> = {}): Redemption => ({
      assertionId: `jti-${newUser()}`,
      redemptionId: 'r1',
      userId: newUser(),
      redeemedAt: new Date(Date.UTC(2026, 0, 1)),
      expiresAt: new Date(Date.UTC(2026, 0, 1, 0, 5)),
      ...overrides,
    });

    it('keeps the first anchor', async () => {
      const first = await s.assertionKeys.anchor(new Date(Date.UTC(2026, 0, 1)));
      expect((await s.assertionKeys.anchor(new Date(Date.UTC(2027, 0, 1)))).getTime()).to.equal(first.getTime());
    });

    it('stores one key per slot: of inserts racing for a slot, every one gets the first', async () => {
      const n = slot();
      const stored = await Promise.all(['v1.a', 'v1.b', 'v1.c', 'v1.d'].map((sealed) => s.assertionKeys.insertIfAbsent(key(n, sealed))));
      expect(new Set(stored.map((k) => k.sealedPrivateKey)).size).to.equal(1);
      const listed = (await s.assertionKeys.list()).filter((k) => k.slot === n);
      expect(listed).to.deep.equal([stored[0]]);
    });

    it('reseals a key only while it is still sealed as read', async () => {
      const n = slot();
      await s.assertionKeys.insertIfAbsent(key(n, 'v1.old'));
      expect(await s.assertionKeys.reseal(n, 'v1.other', 'v1.new')).to.equal(false);
      expect(await s.assertionKeys.reseal(n, 'v1.old', 'v1.new')).to.equal(true);
      expect((await s.assertionKeys.list()).find((k) => k.slot === n)!.sealedPrivateKey).to.equal('v1.new');
    });

    it('records one redemption per assertion: of inserts racing, every one gets the first', async () => {
      const first = redemption();
      const others = ['r2', 'r3', 'r4', 'r5'].map((redemptionId) => ({ ...first, redemptionId }));
      const stored = await Promise.all([first, ...others].map((r) => s.redemptions.insertIfAbsent(r)));
      expect(new Set(stored.map((r) => r.redemptionId)).size).to.equal(1);
      expect(await s.redemptions.find(first.assertionId)).to.deep.equal(stored[0]);
      expect(await s.redemptions.find('jti-never-redeemed')).to.equal(null);
    });

    it('removes expired redemptions in batches of at most the limit, and no unexpired one', async () => {
      const expired = [1, 2, 3].map((i) => redemption({ expiresAt: new Date(Date.UTC(2000, 0, i)) }));
      const live = redemption({ expiresAt: new Date(Date.UTC(2100, 0, 1)) });
      for (const r of [...expired, live]) await s.redemptions.insertIfAbsent(r);
      const before = new Date(Date.UTC(2000, 1, 1));
      expect(await s.redemptions.removeExpired(before, 2)).to.equal(2);
      expect(await s.redemptions.removeExpired(before, 2)).to.equal(1);
      for (const r of expired) expect(await s.redemptions.find(r.assertionId)).to.equal(null);
      expect(await s.redemptions.find(live.assertionId)).to.deep.equal(live);
    });
  });
}
