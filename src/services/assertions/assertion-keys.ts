import type { KeyObject } from 'node:crypto';
import { createLocalJWKSet, type JWK } from 'jose';
import type { Logger } from 'pino';
import { runOutsideCalls } from '../../call-scope.js';
import type { Clock } from '../../domain/clock.js';
import { encodeJwsHeader } from '../../domain/compact-jws.js';
import { ErrorReason, MfaError } from '../../domain/errors.js';
import type { Keyring } from '../../domain/keyring.js';
import type { SecretBox } from '../../domain/secret-box.js';
import { SigningKeySchedule } from '../../domain/signing-key-schedule.js';
import type { AssertionKeyStore, StoredSigningKey } from '../../stores/ports/index.js';
import { makeSigningKey, openSigningKey, resealSigningKey, sealedKeyId } from './sealed-signing-key.js';

/** The JWS algorithm of MFA assertions: ECDSA P-256 with SHA-256 (RFC 7518 §3.4). */
export const ASSERTION_ALG = 'ES256' as const;
// A key set older than this is read again even when the schedule says nothing changed: a key
// that another instance made or resealed shows within a minute.
const REREAD_MS = 60_000;
// After a failed reload, a usable key set is served this long before the next try.
const RETRY_MS = 5_000;
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
  /** The public half, derived from the private one (what is published). */
  readonly publicJwk: Readonly<Record<string, string>>;
}

/** What the instance knows of the keys, from one read of the store. */
interface KeySet {
  readonly schedule: SigningKeySchedule;
  readonly keys: readonly StoredSigningKey[];
  /** The keys this instance opened and found to match their stored public key, by kid: the only ones it publishes or signs with. */
  readonly trusted: ReadonlyMap<string, Signer>;
  readonly loadedAt: number;
  readonly staleAt: number;
}

/**
 * The signing keys of MFA assertions: made by the service, stored sealed in
 * MongoDB so every instance signs with the same keys, rotated on the
 * SigningKeySchedule. Reads the store at most once a minute, or when the
 * schedule says the keys change, in the background while the keys read
 * before can still sign: a code check waits only when there is none.
 */
export class AssertionKeys {
  #set: KeySet | null = null;
  #anchor: Date | null = null;
  #loading: Promise<KeySet> | null = null;
  #retryAt = Number.NEGATIVE_INFINITY;
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
      const signer = set.trusted.get(stored.kid);
      if (signer !== undefined) return signer;
    }
    const kids = order.map((k) => k.kid);
    this.deps.logger.error({ kids, sealedWith: order.map((k) => sealedKeyId(k.sealedPrivateKey)) }, 'no MFA assertion signing key that this instance can open');
    throw new MfaError(ErrorReason.INTERNAL, `no signing key this instance can open (kids: ${kids.join(', ') || 'none'})`);
  }

  /**
   * The published public keys as a JWK Set, and for how long a consumer may
   * cache it (until the schedule next changes it). Read fresh when stale
   * (GetMfaAssertionKeys and the HTTP set are no code check's hot path), or
   * the set read before when reading fails.
   */
  async jwks(): Promise<{ readonly jwks: { keys: JWK[] }; readonly maxAgeSeconds: number }> {
    return this.#jwksOf(await this.#current(true));
  }

  /** A jose key resolver over the published keys (RedeemMfaAssertion's check: served from the set at hand, as signing is). */
  async resolver(): Promise<ReturnType<typeof createLocalJWKSet>> {
    return createLocalJWKSet(this.#jwksOf(await this.#current()).jwks);
  }

  #jwksOf(set: KeySet): { readonly jwks: { keys: JWK[] }; readonly maxAgeSeconds: number } {
    const now = this.deps.clock.now();
    const keys = set.schedule
      .published(set.keys, now)
      .flatMap((k) => set.trusted.get(k.kid) ?? [])
      .map((signer) => ({ ...signer.publicJwk, kid: signer.kid, alg: ASSERTION_ALG, use: 'sig' }));
    const untilChange = Math.floor((set.schedule.nextChange(set.keys, now).getTime() - now.getTime()) / 1000);
    return { jwks: { keys }, maxAgeSeconds: Math.min(MAX_MAX_AGE_SECONDS, Math.max(MIN_MAX_AGE_SECONDS, untilChange)) };
  }

  /**
   * The key set to use now. A stale set that still has a key to sign with is
   * served while one reload runs in the background; a call waits only when
   * there is no usable set. The reload is shared by every call that waits,
   * so it runs outside all their scopes: one cancelled call fails no other.
   */
  async #current(waitWhenStale = false): Promise<KeySet> {
    const now = this.deps.clock.now();
    const at = now.getTime();
    const set = this.#set;
    if (set !== null && at < set.staleAt && at - set.loadedAt < REREAD_MS && at >= set.loadedAt) return set;
    if (set === null || !this.#usable(set, now)) return this.#reload();
    if (waitWhenStale) return this.#reload().catch(() => set);
    if (at >= this.#retryAt) void this.#reload().catch(() => {});
    return set;
  }

  /** Resolves when no reload runs (a fake-clock test moving time past a background reload). */
  async idle(): Promise<void> {
    while (this.#loading !== null) await this.#loading.catch(() => {});
  }

  #usable(set: KeySet, now: Date): boolean {
    return set.schedule.signingOrder(set.keys, now, this.deps.ttlMs).some((k) => set.trusted.has(k.kid));
  }

  #reload(): Promise<KeySet> {
    this.#loading ??= runOutsideCalls(() => this.#load())
      .catch((error: unknown) => {
        // A failed background reload is tried again after a pause, not on every call.
        this.#retryAt = this.deps.clock.now().getTime() + RETRY_MS;
        this.deps.logger.warn({ err: error }, 'reading the MFA assertion signing keys failed; serving the keys read before, if any');
        throw error;
      })
      .finally(() => (this.#loading = null));
    return this.#loading;
  }

  /** Reads the keys, makes the first or the next one when due (the schedule), reseals the keys not yet signing with the current keyring key, and opens them. */
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
    const trusted = new Map<string, Signer>();
    for (const k of keys) {
      const signer = await this.#open(k);
      if (signer !== null) trusted.set(k.kid, signer);
    }
    const set = { schedule, keys, trusted, loadedAt: now.getTime(), staleAt: schedule.nextChange(keys, now).getTime() };
    this.#set = set;
    return set;
  }

  async #make(schedule: SigningKeySchedule, slot: number, notBefore: Date, now: Date): Promise<StoredSigningKey> {
    const kid = schedule.kid(slot);
    const { publicJwk, sealedPrivateKey } = await makeSigningKey(this.deps.box, kid);
    this.deps.logger.info({ kid, slot }, 'made an MFA assertion signing key');
    return { kid, slot, publicJwk, sealedPrivateKey, createdAt: now, notBefore };
  }

  /** A key not yet signing, sealed with the keyring's current key (a keyring rotation reseals it; its kid and public key stay). */
  async #resealed(stored: StoredSigningKey): Promise<StoredSigningKey> {
    const { keyring, box, store } = this.deps;
    if (sealedKeyId(stored.sealedPrivateKey) === keyring.currentId || (await this.#open(stored)) === null) return stored;
    const sealedPrivateKey = await resealSigningKey(box, stored);
    if (!(await store.reseal(stored.slot, stored.sealedPrivateKey, sealedPrivateKey))) return stored;
    this.deps.logger.info({ kid: stored.kid, sealedWith: keyring.currentId }, 'resealed the next MFA assertion signing key with the current keyring key');
    return { ...stored, sealedPrivateKey };
  }

  /**
   * The key opened for signing, or null when this instance cannot trust it:
   * its keyring lacks the key it was sealed with, or the seal does not open
   * with the stored public key's thumbprint, or the private half does not
   * yield that public key (someone wrote the store). Logged by kid, once.
   */
  async #open(stored: StoredSigningKey): Promise<Signer | null> {
    const cacheKey = [stored.kid, stored.sealedPrivateKey, ...Object.values(stored.publicJwk)].join('\u0000');
    if (this.#opened.has(cacheKey)) return this.#opened.get(cacheKey)!;
    const sealedWith = sealedKeyId(stored.sealedPrivateKey);
    let signer: Signer | null = null;
    if (this.deps.keyring.key(sealedWith) === undefined) {
      this.deps.logger.warn({ kid: stored.kid, sealedWith }, 'an MFA assertion signing key is sealed with a keyring key this instance lacks: not published or used here');
    } else {
      try {
        const { key, publicJwk } = await openSigningKey(this.deps.box, stored);
        signer = { kid: stored.kid, key, publicJwk, encodedHeader: encodeJwsHeader({ alg: ASSERTION_ALG, kid: stored.kid, typ: ASSERTION_TYP }) };
      } catch {
        this.deps.logger.error({ kid: stored.kid, sealedWith }, 'an MFA assertion signing key does not open to its stored public key (was the store written to?): not published or used');
      }
    }
    this.#opened.set(cacheKey, signer);
    return signer;
  }
}
