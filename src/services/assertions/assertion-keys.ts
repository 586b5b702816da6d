import { createPrivateKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import { encodeJwsHeader } from '../../domain/compact-jws.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { Keyring } from '../../domain/keyring.js';
import type { SecretBox } from '../../domain/secret-box.js';
import { SigningKeySchedule } from '../../domain/signing-key-schedule.js';
import type { AssertionKeyStore, StoredSigningKey } from '../../stores/ports/index.js';

/** The JWS algorithm of MFA assertions: ECDSA P-256 with SHA-256 (RFC 7518 §3.4). */
export const ASSERTION_ALG = 'ES256' as const;
// A key set older than this is read again even when the schedule says nothing changed: a key
// that another instance made or resealed shows within a minute.
const REREAD_MS = 60_000;
const MIN_MAX_AGE_SECONDS = 60;
const MAX_MAX_AGE_SECONDS = 86_400;

/** The JWS `typ` of an MFA assertion (RFC 8725 §3.11: explicit typing), which verifiers check. */
export const ASSERTION_TYP = 'mfa-assertion+jwt';

/** The signing key a check will sign with, opened before the check runs. */
export interface Signer {
  readonly kid: string;
  readonly key: KeyObject;
  /** The JWS protected header for this key, base64url-encoded once. */
  readonly encodedHeader: string;
}

/** What the instance knows of the keys, from one read of the store. */
interface KeySet {
  readonly schedule: SigningKeySchedule;
  readonly keys: readonly StoredSigningKey[];
  readonly loadedAt: number;
  readonly staleAt: number;
}

/**
 * The signing keys of MFA assertions: made by the service, stored sealed in
 * MongoDB so every instance signs with the same keys, rotated on the
 * SigningKeySchedule. Reads the store at most once a minute, or when the
 * schedule says the keys change; never on a code check's hot path otherwise.
 */
export class AssertionKeys {
  #set: KeySet | null = null;
  #anchor: Date | null = null;
  #loading: Promise<KeySet> | null = null;
  readonly #opened = new Map<string, Signer | null>();

  constructor(
    private readonly deps: {
      readonly store: AssertionKeyStore;
      readonly box: SecretBox;
      readonly keyring: Keyring;
      readonly clock: Clock;
      readonly logger: Logger;
      readonly rotationMs: number;
      readonly ttlMs: number;
    },
  ) {}

  /**
   * The newest key that signs now and that this instance can open. INTERNAL
   * when it can open none (the keyring lacks the keys they were sealed with);
   * the log names the key ids.
   */
  async signer(): Promise<Signer> {
    const set = await this.#current();
    const now = this.deps.clock.now();
    const order = set.schedule.signingOrder(set.keys, now, this.deps.ttlMs);
    for (const stored of order) {
      const signer = await this.#open(stored);
      if (signer !== null) return signer;
    }
    const kids = order.map((k) => k.kid);
    this.deps.logger.error({ kids, sealedWith: order.map((k) => sealedKeyId(k.sealedPrivateKey)) }, 'no MFA assertion signing key that this instance can open');
    throw new MfaError(ErrorReason.INTERNAL, `no signing key this instance can open (kids: ${kids.join(', ') || 'none'})`);
  }

  /** The published public keys as a JWK Set, and for how long a consumer may cache it (until the schedule next changes it). */
  async jwks(): Promise<{ readonly jwks: { keys: JWK[] }; readonly maxAgeSeconds: number }> {
    const set = await this.#current();
    const now = this.deps.clock.now();
    const keys = set.schedule.published(set.keys, now).map((k) => ({ ...k.publicJwk, kid: k.kid, alg: ASSERTION_ALG, use: 'sig' }));
    const untilChange = Math.floor((set.schedule.nextChange(set.keys, now).getTime() - now.getTime()) / 1000);
    return { jwks: { keys }, maxAgeSeconds: Math.min(MAX_MAX_AGE_SECONDS, Math.max(MIN_MAX_AGE_SECONDS, untilChange)) };
  }

  /** A jose key resolver over the published keys (RedeemMfaAssertion's check). */
  async resolver(): Promise<ReturnType<typeof createLocalJWKSet>> {
    return createLocalJWKSet((await this.jwks()).jwks);
  }

  async #current(): Promise<KeySet> {
    const now = this.deps.clock.now().getTime();
    const set = this.#set;
    if (set !== null && now < set.staleAt && now - set.loadedAt < REREAD_MS && now >= set.loadedAt) return set;
    this.#loading ??= this.#load().finally(() => (this.#loading = null));
    return this.#loading;
  }

  /** Reads the keys, makes the current and next slot's when missing, reseals the keys not yet signing with the current keyring key. */
  async #load(): Promise<KeySet> {
    const { store, clock, rotationMs } = this.deps;
    // The anchor never changes once stored: asked for once per instance.
    const anchor = (this.#anchor ??= await store.anchor(clock.now()));
    // Read after the anchor: another instance's anchor, stored first, may be a moment later than this one's proposal.
    const now = clock.now();
    const schedule = new SigningKeySchedule(anchor, rotationMs);
    let keys = await store.list();
    // At most two: the very first key, then the next one.
    for (let due = schedule.nextKey(keys, now), made = 0; due !== null && made < 2; due = schedule.nextKey(keys, now), made++) {
      const stored = await store.insertIfAbsent(await this.#make(schedule, due.slot, due.notBefore, now));
      keys = [...keys.filter((k) => k.slot !== stored.slot), stored].sort((a, b) => a.slot - b.slot);
    }
    keys = await Promise.all(keys.map((k) => (k.notBefore.getTime() > now.getTime() ? this.#resealed(k) : k)));
    const set = { schedule, keys, loadedAt: now.getTime(), staleAt: schedule.nextChange(keys, now).getTime() };
    this.#set = set;
    return set;
  }

  async #make(schedule: SigningKeySchedule, slot: number, notBefore: Date, now: Date): Promise<StoredSigningKey> {
    const kid = schedule.kid(slot);
    const { publicKey, privateKey } = await generateKeyPair(ASSERTION_ALG, { extractable: true });
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const pkcs8 = await exportPKCS8(privateKey);
    const sealedPrivateKey = this.deps.box.seal(Buffer.from(pkcs8, 'utf8'), signingKeyContext(kid));
    this.deps.logger.info({ kid, slot }, 'made an MFA assertion signing key');
    return { kid, slot, publicJwk: { kty: kty!, crv: crv!, x: x!, y: y! }, sealedPrivateKey, createdAt: now, notBefore };
  }

  /** A key not yet signing, sealed with the keyring's current key (a keyring rotation reseals it; its kid and public key stay). */
  async #resealed(stored: StoredSigningKey): Promise<StoredSigningKey> {
    const { keyring, box, store } = this.deps;
    if (sealedKeyId(stored.sealedPrivateKey) === keyring.currentId || (await this.#open(stored)) === null) return stored;
    const context = signingKeyContext(stored.kid);
    const sealedPrivateKey = box.seal(box.open(stored.sealedPrivateKey, context), context);
    if (!(await store.reseal(stored.slot, stored.sealedPrivateKey, sealedPrivateKey))) return stored;
    this.deps.logger.info({ kid: stored.kid, sealedWith: keyring.currentId }, 'resealed the next MFA assertion signing key with the current keyring key');
    return { ...stored, sealedPrivateKey };
  }

  /** The key opened for signing, or null when this instance's keyring cannot open it. */
  async #open(stored: StoredSigningKey): Promise<Signer | null> {
    const cacheKey = `${stored.kid}\u0000${sealedKeyId(stored.sealedPrivateKey)}`;
    if (this.#opened.has(cacheKey)) return this.#opened.get(cacheKey)!;
    let signer: Signer | null = null;
    try {
      const key = createPrivateKey(this.deps.box.open(stored.sealedPrivateKey, signingKeyContext(stored.kid)).toString('utf8'));
      signer = { kid: stored.kid, key, encodedHeader: encodeJwsHeader({ alg: ASSERTION_ALG, kid: stored.kid, typ: ASSERTION_TYP }) };
    } catch {
      signer = null;
    }
    this.#opened.set(cacheKey, signer);
    return signer;
  }
}

/** The associated data that binds a sealed signing key to its kid. */
function signingKeyContext(kid: string): string {
  return `mfa.v1/assertion-signing-key/${kid}`;
}

/** The keyring key id a sealed value names (v1.<keyId>.<iv>.<body>). */
function sealedKeyId(sealed: string): string {
  return sealed.split('.')[1] ?? '';
}
