import { MemoryCredentialClaimStore } from '../../src/stores/memory/memory-credential-claim-store.js';
import { MemoryWebAuthnChallengeStore } from '../../src/stores/memory/memory-webauthn-challenge-store.js';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { MfaError } from '../../src/domain/errors.js';
import { Keyring } from '../../src/domain/keyring.js';
import { generateTotp, TOTP_SECRET_BYTES } from '../../src/domain/totp.js';
import { createServices } from '../../src/services/create-services.js';
import { MemoryAttemptStore } from '../../src/stores/memory/memory-attempt-store.js';
import { MemoryAssertionKeyStore } from '../../src/stores/memory/memory-assertion-key-store.js';
import { MemoryRedemptionStore } from '../../src/stores/memory/memory-redemption-store.js';
import { MemoryNotifier } from '../../src/stores/memory/memory-notifier.js';
import { MemoryFactorStore } from '../../src/stores/memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from '../../src/stores/memory/memory-pending-enrollment-store.js';
import { MemoryLoginCopyStore } from '../../src/stores/memory/memory-login-copy-store.js';
import { MemoryRevocationCache } from '../../src/stores/memory/memory-revocation-cache.js';
import { MemorySecurityEventLog } from '../../src/stores/memory/memory-security-event-log.js';
import { storeUnavailable } from '../../src/domain/store-unavailable-error.js';
import { FakeClock } from './fake-clock.js';

/**
 * When an injected fault strikes a store call: `before` fails it without doing
 * anything (an outage), `after` does it and then fails (the write committed,
 * but the answer was lost: a timeout, a killed connection).
 */
export type FaultTiming = 'before' | 'after';

/** Makes the next call of `object[method]` fail like a store outage, before or after it took effect. */
function injectFaults<T extends object>(object: T) {
  const armed = new Map<string, FaultTiming>();
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(object))) {
    const original = (object as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof original !== 'function') continue;
    (object as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const timing = armed.get(name);
      armed.delete(name);
      if (timing === 'before') throw storeUnavailable('test store', new Error(`injected fault before ${name}`));
      const result = await (original as (...a: unknown[]) => Promise<unknown>).apply(object, args);
      if (timing === 'after') throw storeUnavailable('test store', new Error(`injected fault after ${name}`));
      return result;
    };
  }
  return (method: keyof T & string, timing: FaultTiming) => void armed.set(method, timing);
}

/** Where the harness's clock starts, and the TOTP secret every enrollment draws (random when not given). */
export interface HarnessOptions {
  readonly start?: Date;
  readonly totpSecret?: Buffer;
}

/** The services on the in-memory stores with a fake clock, the stores themselves, and fault injection. */
export function serviceHarness(env: Record<string, string> = {}, options: HarnessOptions = {}) {
  const clock = new FakeClock(options.start);
  const { totpSecret } = options;
  const random = totpSecret === undefined ? randomBytes : (size: number) => (size === TOTP_SECRET_BYTES ? Buffer.from(totpSecret) : randomBytes(size));
  const factors = new MemoryFactorStore();
  const pending = new MemoryPendingEnrollmentStore(clock);
  const attempts = new MemoryAttemptStore(clock);
  const keys = { k: randomBytes(32) };
  const keyring = new Keyring([{ id: 'k', key: keys.k }]);
  const confirmations = new MemoryNotifier();
  const securityEvents = new MemorySecurityEventLog();
  const loginCopies = new MemoryLoginCopyStore({ clock, ttlMs: 7 * 86_400_000 });
  const assertionKeys = new MemoryAssertionKeyStore();
  const redemptions = new MemoryRedemptionStore();
  const stores = {
    factors, pending, attempts, revocations: new MemoryRevocationCache(), loginCopies, securityEvents, confirmations, eventNotices: new MemoryNotifier(),
    assertionKeys, redemptions, challenges: new MemoryWebAuthnChallengeStore(clock), credentialClaims: new MemoryCredentialClaimStore(),
  };
  const faults = { factors: injectFaults(factors), pending: injectFaults(pending) };
  const build = (ring: Keyring) => createServices(loadConfig(env), stores, { keyring: ring, clock, random, logger: pino({ level: 'silent' }) });
  const services = build(keyring);

  const code = (secret: string, steps = 0) => generateTotp(secret, new Date(clock.now().getTime() + steps * 30_000));
  const enroll = async (userId: string) => {
    const begun = await services.enrollment.begin({ userId, accountName: '', issuer: '', authenticatorLabel: '', addAuthenticator: false });
    const confirmed = await services.confirmation.confirm({ userId, enrollmentId: begun.enrollmentId, code: code(begun.secret), existingCode: '' });
    clock.advance(30_000);
    return { secret: begun.secret, recoveryCodes: confirmed.recoveryCodes, enabledAt: confirmed.enabledAt };
  };
  /** The same stores and clock, served with a keyring that lacks key "k" (an operator removed it). */
  const withoutKey = () => build(new Keyring([{ id: 'other', key: randomBytes(32) }]));
  return { clock, services, stores, faults, code, enroll, withoutKey };
}

/** The MfaError reason a call ends with, 'OK', or the thrown value itself when it is something else. */
export async function reasonOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof MfaError) return error.reason;
    return `thrown: ${error instanceof Error ? error.message : String(error)}`;
  }
  return 'OK';
}
