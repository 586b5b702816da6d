import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeProtectedHeader, jwtVerify, createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import type { Clock } from '../../src/domain/clock.js';
import { runInCallScope, throwIfCallEnded } from '../../src/call-scope.js';
import { MfaError } from '../../src/domain/errors.js';
import { Keyring } from '../../src/domain/keyring.js';
import { SecretBox } from '../../src/domain/secret-box.js';
import { AssertionKeys } from '../../src/services/assertions/assertion-keys.js';
import { AssertionService } from '../../src/services/assertions/assertion-service.js';
import { MemoryAssertionKeyStore } from '../../src/stores/memory/memory-assertion-key-store.js';
import type { AssertionKeyStore } from '../../src/stores/ports/index.js';
import { FakeClock } from '../support/fake-clock.js';
import { reasonOf } from '../support/service-harness.js';

const DAY = 86_400_000;
const TTL_MS = 300_000;

/** One instance's view of the keys: its own cache and keyring, over a shared store and clock. */
function instance(store: AssertionKeyStore, clock: Clock, keyring: Keyring, rotationDays = 30) {
  const keys = new AssertionKeys({ store, box: new SecretBox(keyring, randomBytes), keyring, clock, logger: pino({ level: 'silent' }), rotationMs: rotationDays * DAY, ttlMs: TTL_MS });
  const assertions = new AssertionService({ settings: { issuer: 'https://mfa.test', ttlMs: TTL_MS }, keys, clock, random: randomBytes });
  const sign = async () => {
    const signer = await assertions.prepare();
    const checked = { method: 'totp' as const, authenticatorId: 'aut_aaaaaaaaaaaaaaaa', authTime: clock.now() };
    return (await assertions.issue(signer, 'alice', checked, { audience: 'payments', purpose: 'payments.transfer', transaction: null })).token;
  };
  const kids = async () => (await keys.jwks()).jwks.keys.map((k) => k.kid);
  const verify = async (token: string) =>
    jwtVerify(token, createLocalJWKSet((await keys.jwks()).jwks), { issuer: 'https://mfa.test', audience: 'payments', currentDate: clock.now() });
  return { keys, signNow: sign, sign: async () => { const token = await sign(); await keys.idle(); return token; }, kids, verify };
}

const ring = (...ids: string[]) => new Keyring(ids.map((id) => ({ id, key: KEYS[id]! })));
const KEYS: Record<string, Buffer> = { k1: randomBytes(32), k2: randomBytes(32) };

describe('AssertionKeys: the signing keys and their rotation (issue 25, fake clock)', () => {
  it('signs with the very first key at once, and publishes the next one a whole period before it signs', async () => {
    const clock = new FakeClock();
    const a = instance(new MemoryAssertionKeyStore(), clock, ring('k1'));
    const first = await a.sign();
    const [k0, k1] = await a.kids();
    expect(decodeProtectedHeader(first).kid).to.equal(k0);
    expect(k1).to.be.a('string').and.not.equal(k0);
    clock.advance(30 * DAY - 1000);
    expect(decodeProtectedHeader(await a.sign()).kid, 'a second before the rotation').to.equal(k0);
    clock.advance(1000);
    expect(decodeProtectedHeader(await a.sign()).kid, 'at the rotation').to.equal(k1);
  });

  it('keeps a token signed just before a rotation verifiable until it expires, and the key after that only as long as published', async () => {
    const clock = new FakeClock();
    const a = instance(new MemoryAssertionKeyStore(), clock, ring('k1'));
    await a.sign();
    clock.advance(30 * DAY - 1000);
    const old = await a.sign();
    const [k0] = await a.kids();
    clock.advance(1000);
    const next = await a.sign();
    clock.advance(TTL_MS - 2000);
    expect((await a.verify(old)).payload.sub).to.equal('alice');
    expect(await a.kids(), 'published with the signing key and the one after it').to.include(k0);
    await a.verify(next);
    clock.advance(30 * DAY);
    expect(await a.kids(), 'a period after it stopped signing').to.not.include(k0);
  });

  it('sets the JWK Set cache age from the schedule: never past the next change', async () => {
    const clock = new FakeClock();
    const a = instance(new MemoryAssertionKeyStore(), clock, ring('k1'));
    await a.sign();
    clock.advance(30 * DAY - 600_000);
    expect((await a.keys.jwks()).maxAgeSeconds).to.equal(600);
    clock.advance(600_000 - 10_000);
    expect((await a.keys.jwks()).maxAgeSeconds, 'at least a minute').to.equal(60);
  });

  it('has two instances starting at once make one key per slot', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    const [a, b] = [instance(store, clock, ring('k1')), instance(store, clock, ring('k1'))];
    const [ta, tb] = await Promise.all([a.sign(), b.sign()]);
    expect(decodeProtectedHeader(ta).kid).to.equal(decodeProtectedHeader(tb).kid);
    expect((await store.list()).length).to.equal(2);
    await a.verify(tb);
    await b.verify(ta);
  });

  it('has an instance that missed the first key being stored make the next one a whole period after the first signs', async () => {
    const clock = new FakeClock();
    const shared = new MemoryAssertionKeyStore();
    const T = clock.now().getTime();
    await shared.anchor(new Date(T)); // B proposed the anchor
    // A, whose clock is 2 ms ahead, stores the first key and is stopped before its second.
    const aStore: AssertionKeyStore = { ...bind(shared), insertIfAbsent: (k) => (k.slot === 0 ? shared.insertIfAbsent(k) : new Promise(() => {})) };
    void instance(aStore, new FakeClock(T + 2), ring('k1')).keys.jwks();
    while ((await shared.list()).length === 0) await new Promise((resolve) => setImmediate(resolve));
    // B read the store before A's key was in it.
    let bLists = 0;
    const bStore: AssertionKeyStore = { ...bind(shared), list: async () => (bLists++ === 0 ? [] : shared.list()) };
    const b = instance(bStore, clock, ring('k1'));
    const token = await b.sign();
    const [slot0, slot1] = await shared.list();
    expect(decodeProtectedHeader(token).kid, 'B signs with the first key').to.equal(slot0!.kid);
    expect(slot1!.notBefore.getTime(), 'slot 1 signs a whole period after slot 0').to.be.at.least(slot0!.notBefore.getTime() + 30 * DAY);
  });

  it('keeps rotating after MFA_ASSERTION_KEY_ROTATION_DAYS is raised: each key signs a whole new period after the one before', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    const daily = instance(store, clock, ring('k1'), 1);
    for (let day = 0; day < 20; day++, clock.advance(DAY)) await daily.sign();
    const monthly = instance(store, clock, ring('k1'), 30);
    const kidsSigning: string[] = [];
    for (let day = 20; day <= 120; day += 10, clock.advance(10 * DAY)) kidsSigning.push(decodeProtectedHeader(await monthly.sign()).kid!);
    expect(new Set(kidsSigning).size, `kids signing every 10 days: ${kidsSigning.join(' ')}`).to.be.at.least(4);
    const keys = await store.list();
    const last = keys.slice(-3);
    expect(last[2]!.notBefore.getTime() - last[1]!.notBefore.getTime()).to.be.at.least(30 * DAY);
    expect(last[1]!.notBefore.getTime() - last[0]!.notBefore.getTime()).to.be.at.least(30 * DAY);
  });

  it('after a keyring rotation, reseals the next key with the new key; an instance signs with the newest key it can open', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    const old = instance(store, clock, ring('k1'));
    await old.sign();
    const [k0, k1] = await old.kids();
    expect((await store.list()).map((k) => k.sealedPrivateKey.split('.')[1])).to.deep.equal(['k1', 'k1']);
    const rotated = instance(store, clock, ring('k2', 'k1'));
    await rotated.sign();
    expect((await store.list()).map((k) => k.sealedPrivateKey.split('.')[1]), 'the signing key stays; the next is resealed').to.deep.equal(['k1', 'k2']);
    clock.advance(30 * DAY);
    expect(decodeProtectedHeader(await rotated.sign()).kid).to.equal(k1);
    // An instance not yet given k2 falls back to the key before, published long enough for its tokens.
    const lagging = instance(store, clock, ring('k1'));
    const fallback = await lagging.sign();
    expect(decodeProtectedHeader(fallback).kid).to.equal(k0);
    await rotated.verify(fallback);
  });

  it('publishes and signs with only keys whose sealed private half yields their stored public key (a store writer cannot add or swap one)', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    const honest = instance(store, clock, ring('k1'));
    const good = await honest.sign();
    const [k0, k1] = await store.list();
    const forger = await generateKeyPair('ES256', { extractable: true });
    const { kty, crv, x, y } = await exportJWK(forger.publicKey);
    const forgedJwk = { kty: kty!, crv: crv!, x: x!, y: y! };
    // Slot 0's public key swapped; a slot 2 added with a sealed value the keyring cannot open.
    const tampered: AssertionKeyStore = {
      ...bind(store),
      list: async () => [
        { ...k0!, publicJwk: forgedJwk },
        k1!,
        { ...k1!, slot: 2, kid: 'forged', publicJwk: forgedJwk, notBefore: new Date(clock.now().getTime() + 60 * DAY) },
      ],
    };
    const reader = instance(tampered, clock, ring('k1'));
    const published = (await reader.keys.jwks()).jwks.keys;
    expect(published.map((k) => k.kid), 'only the untouched next key').to.deep.equal([k1!.kid]);
    expect(published.map((k) => k.x)).to.not.include(forgedJwk.x);
    const forged = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: k0!.kid }).setIssuer('https://mfa.test').setAudience('payments').setExpirationTime('5m').sign(forger.privateKey);
    expect(await reader.verify(forged).then(() => 'verified', () => 'refused')).to.equal('refused');
    expect(await reader.verify(good).then(() => 'verified', () => 'refused'), 'no key to check the swapped one either').to.equal('refused');
    expect(await reasonOf(reader.sign()), 'no key it can trust signs now').to.equal('INTERNAL');
  });

  it('shares a key reload between calls without one cancelled call failing the others', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // As the real adapters do (guardStore): each store operation first checks the call it serves.
    const guarded: AssertionKeyStore = { ...bind(store), list: async () => (await gate, throwIfCallEnded(), store.list()) };
    const a = instance(guarded, clock, ring('k1'));
    const [first, second] = [new AbortController(), new AbortController()];
    const call = (signal: AbortSignal) => runInCallScope({ caller: '', requestId: 'r', signal }, () => a.sign());
    const results = [reasonOf(call(first.signal)), reasonOf(call(second.signal))];
    first.abort();
    open();
    expect(await results[1], 'the call still running').to.equal('OK');
    expect(await results[0], 'the shared reload was not the cancelled call\'s').to.equal('OK');
  });

  it('serves the keys it has while the periodic reload runs in the background', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    let blocked = false;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let lists = 0;
    const slow: AssertionKeyStore = { ...bind(store), list: async () => (lists++, blocked && (await gate), store.list()) };
    const a = instance(slow, clock, ring('k1'));
    const kid = decodeProtectedHeader(await a.sign()).kid;
    blocked = true;
    clock.advance(2 * 60_000);
    // Would never resolve if the call waited for the reload, which waits for the gate.
    expect(decodeProtectedHeader(await a.signNow()).kid).to.equal(kid);
    expect(lists, 'the reload started').to.equal(2);
    open();
  });

  it('fails INTERNAL, naming the key ids, when the instance can open no signing key', async () => {
    const clock = new FakeClock();
    const store = new MemoryAssertionKeyStore();
    await instance(store, clock, ring('k1')).sign();
    const stranger = instance(store, clock, ring('k2'));
    const error = await stranger.sign().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(MfaError);
    expect(error).to.include({ reason: 'INTERNAL' });
    expect((error as Error).message).to.match(/kids: mfa-\w+-0/);
  });
});

/** A store's methods, bound, to wrap one of them. */
function bind(store: AssertionKeyStore): AssertionKeyStore {
  return {
    anchor: (proposed) => store.anchor(proposed),
    list: () => store.list(),
    insertIfAbsent: (key) => store.insertIfAbsent(key),
    reseal: (slot, from, to) => store.reseal(slot, from, to),
  };
}
