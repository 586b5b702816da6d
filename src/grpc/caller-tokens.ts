import { createHash, timingSafeEqual } from 'node:crypto';

/** One calling service: its name (for logs, metrics and the audit trail) and its bearer token. */
export interface CallerToken {
  readonly name: string;
  readonly token: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_TOKEN_LENGTH = 16;

/**
 * Parses MFA_AUTH_TOKENS (`name:token,name:token`). Throws an Error whose
 * message is one line and never contains a token.
 */
export function parseCallerTokens(text: string): CallerToken[] {
  const entries = text.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
  if (entries.length === 0) throw new Error('MFA_AUTH_TOKENS is empty; expected name:token[,name:token...]');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`MFA_AUTH_TOKENS entry ${index + 1} is not name:token`);
    const name = entry.slice(0, colon);
    const token = entry.slice(colon + 1);
    if (!NAME.test(name)) throw new Error(`MFA_AUTH_TOKENS entry ${index + 1}: the name must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      throw new Error(`MFA_AUTH_TOKENS token of "${name}" must be at least ${MIN_TOKEN_LENGTH} characters without spaces`);
    }
    if (seen.has(name)) throw new Error(`MFA_AUTH_TOKENS names "${name}" twice`);
    seen.add(name);
    return { name, token };
  });
}

/** Finds the caller whose token was presented, comparing in constant time. */
export class CallerAuthenticator {
  readonly #digests: Array<{ name: string; digest: Buffer }>;

  constructor(tokens: readonly CallerToken[]) {
    this.#digests = tokens.map(({ name, token }) => ({ name, digest: sha256(token) }));
  }

  /** The caller's name for an `authorization` header value, or null when it is missing or unknown. */
  authenticate(authorization: string | undefined): string | null {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    // Digests have one length, so timingSafeEqual never throws; every token is compared, found or not.
    const presented = sha256(match?.[1] ?? '');
    let caller: string | null = null;
    for (const { name, digest } of this.#digests) {
      if (timingSafeEqual(presented, digest) && match !== null) caller = name;
    }
    return caller;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
