import type { RandomBytes } from './clock.js';

/** What mintAuthenticatorId makes: an authenticator id is never anything else (it is also a MongoDB field name). */
export const AUTHENTICATOR_ID_PATTERN = /^aut_[A-Za-z0-9_-]{16}$/;

/**
 * The id under which a user's one secret from before several authenticators
 * (stored as sealedSecret/lastTimeStep on the user's document) is read, and
 * kept once that document is rewritten in today's shape.
 */
export const LEGACY_AUTHENTICATOR_ID = 'aut_0000000000000000';

/** The label of an authenticator enrolled without one, and of the legacy one. */
export const DEFAULT_AUTHENTICATOR_LABEL = 'Authenticator app';

/** Most characters in an authenticator's label. */
export const MAX_AUTHENTICATOR_LABEL = 64;

export function mintAuthenticatorId(random: RandomBytes): string {
  return `aut_${random(12).toString('base64url')}`;
}
