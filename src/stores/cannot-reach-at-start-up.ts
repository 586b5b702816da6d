/**
 * The start-up error for a store that could not be reached when the service
 * opens its stores (the process then exits; a call that finds a store down
 * later fails with domain/store-unavailable-error.ts instead): one line naming
 * the store, its address (scheme and hosts: never the credentials, path or
 * options of the URL) and why, e.g.
 * `cannot reach Redis at redis://127.0.0.1:6380: connection refused`.
 */
export function cannotReachAtStartUp(store: string, url: string, cause: unknown): Error {
  return new Error(`cannot reach ${store} at ${addressOf(url)}: ${whyUnreachable(cause)}`, { cause });
}

/** Scheme and hosts of a URL, or of each comma-separated URL (Redis Cluster seeds); a MongoDB host list stays one URL. */
export function addressOf(url: string): string {
  return url
    .split(/,(?=\s*[a-z][a-z0-9+.-]*:\/\/)/i)
    .map((one) => {
      // Userinfo ends at the last "@" before the path: a password may not contain "/", "?" or "#" unencoded.
      const match = /^\s*([a-z][a-z0-9+.-]*:\/\/)(?:[^/?#]*@)?([^/?#]*)/i.exec(one);
      return match === null ? '(not a URL)' : `${match[1]}${match[2]}`;
    })
    .join(',');
}

const REASONS: Array<[RegExp, string]> = [
  [/ECONNREFUSED/, 'connection refused'],
  [/ENOTFOUND|EAI_AGAIN/, 'host not found'],
  [/WRONGPASS|NOAUTH|Authentication failed|AuthenticationFailed/i, 'authentication failed'],
  [/ECONNRESET|EPIPE/, 'connection reset'],
  [/certificate|SSL routines|TLS/i, 'TLS handshake failed'],
  [/ETIMEDOUT|timed out|timeout/i, 'no answer in time'],
];

/** The driver errors' codes and messages (causes, AggregateError members, ioredis's lastNodeError) as one plain reason. */
function whyUnreachable(cause: unknown): string {
  const texts: string[] = [];
  const collect = (value: unknown, depth: number): void => {
    if (!(value instanceof Error) || depth > 5) return;
    const { code, lastNodeError } = value as { code?: unknown; lastNodeError?: unknown };
    texts.push(value.message, String(code ?? ''));
    collect(value.cause, depth + 1);
    collect(lastNodeError, depth + 1);
    if (value instanceof AggregateError) for (const inner of value.errors) collect(inner, depth + 1);
  };
  collect(cause, 0);
  const text = texts.join('\n');
  const known = REASONS.find(([pattern]) => pattern.test(text));
  if (known !== undefined) return known[1];
  // Anything else: the first line of the driver's message, with any credentials in a URL taken out.
  return (texts[0] ?? String(cause)).split('\n')[0]!.replace(/\/\/[^\s/@]*@/g, '//');
}
