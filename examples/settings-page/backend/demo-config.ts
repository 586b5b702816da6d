/**
 * The demo's settings, read once from the environment: where the page
 * listens, and either the running service to call (MFA_ADDR) or the
 * settings of the service the demo starts itself.
 */
export interface DemoConfig {
  /** DEMO_PORT: the page's port on localhost (8080). */
  readonly port: number;
  /** The service to call, when MFA_ADDR names one; null: the demo starts its own. */
  readonly external: ExternalService | null;
}

/** A running service and this backend's tokens for it (none when it has no MFA_AUTH_TOKENS). */
export interface ExternalService {
  readonly address: string;
  /** MFA_TOKEN: an ordinary caller's token, for the user's own calls. */
  readonly token: string | undefined;
  /** MFA_ADMIN_TOKEN: a caller in MFA_ADMIN_CALLERS, for ListAuditEvents. */
  readonly adminToken: string | undefined;
  /** MFA_EVENTS_TOKEN: a caller in MFA_EVENT_CALLERS, for WatchSecurityEvents. */
  readonly eventsToken: string | undefined;
}

/** A setting the demo cannot start with: printed as one line. */
export class DemoConfigError extends Error {}

export function loadDemoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const portText = env['DEMO_PORT']?.trim() || '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new DemoConfigError(`DEMO_PORT must be a port number, got "${portText}"`);
  const address = env['MFA_ADDR']?.trim();
  if (address) {
    return { port, external: { address, token: env['MFA_TOKEN'], adminToken: env['MFA_ADMIN_TOKEN'], eventsToken: env['MFA_EVENTS_TOKEN'] } };
  }
  // The service started here reads the same environment: on real stores it needs its keys, as in production.
  if ((env['REDIS_URL'] || env['MONGO_URL']) && !env['MFA_ENCRYPTION_KEYS']) {
    throw new DemoConfigError('MFA_ENCRYPTION_KEYS is required with REDIS_URL and MONGO_URL (echo "k1:$(openssl rand -base64 32)")');
  }
  return { port, external: null };
}
