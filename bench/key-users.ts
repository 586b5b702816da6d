import { SoftAuthenticator } from '../test/support/soft-authenticator.js';
import type { MfaCalls } from './mfa-calls.js';

/** The relying party of the bench server's WebAuthn settings (run.ts sets them). */
export const BENCH_RP_ID = 'bench.example';
export const BENCH_ORIGIN = 'https://bench.example';

/** A benchmark user whose one authenticator is a software security key (the test suite's). */
export interface KeyUser {
  readonly userId: string;
  readonly key: SoftAuthenticator;
  /** The user's login in flight, if any: the next waits for it, so the key's counter reaches the server in order. */
  inFlight: Promise<unknown> | null;
}

/** Registers a new user's first factor: a software ES256 key, as a browser with a security key would. */
export async function registerKeyUser(calls: MfaCalls, userId: string): Promise<KeyUser> {
  const key = new SoftAuthenticator({ origin: BENCH_ORIGIN, rpId: BENCH_RP_ID });
  const begun = await calls.beginWebAuthnRegistration(userId);
  await calls.finishWebAuthnRegistration(userId, begun.registrationId, key.register(begun.optionsJson));
  return { userId, key, inFlight: null };
}

/** One login with the key: BeginWebAuthnAuthentication, the key's assertion, VerifyWebAuthn. */
export async function loginWithKey(calls: MfaCalls, user: KeyUser): Promise<void> {
  const login = async () => {
    const begun = await calls.beginWebAuthnAuthentication(user.userId);
    await calls.verifyWebAuthn(user.userId, begun.challengeId, user.key.assert(begun.optionsJson));
  };
  const call = user.inFlight === null ? login() : user.inFlight.catch(() => {}).then(login);
  user.inFlight = call;
  try {
    await call;
  } finally {
    if (user.inFlight === call) user.inFlight = null;
  }
}
