import { readFileSync } from 'node:fs';
import { parseKeyring, type Keyring } from './domain/keyring.js';
import type { WebAuthnSettings } from './domain/webauthn.js';
import { parseAttestationRoots } from './domain/attestation-certificates.js';
import { parseCallerTokens, type CallerToken } from './grpc/caller-tokens.js';
import type { TlsConfig } from './grpc/server.js';
import { assertDurableMongoUrl } from './stores/mongo/mongo-client.js';
import { DEFAULT_REDIS_KEY_PREFIX, type StoreConfig } from './stores/open-stores.js';
import { parseClusterSeeds } from './stores/redis/redis-client.js';

/** Every setting of the service, parsed and checked once at start-up (see README, "Settings"). */
export interface Config {
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly stores: StoreConfig;
  /** Null in memory mode without MFA_ENCRYPTION_KEYS: main.ts makes an ephemeral key. */
  readonly keyring: Keyring | null;
  readonly issuer: string;
  readonly enrollmentTtlSeconds: number;
  readonly maxFailedAttempts: number;
  /** The first lockout in a row; each next one doubles, up to lockoutMaxSeconds. */
  readonly lockoutSeconds: number;
  /** MFA_LOCKOUT_MAX_SECONDS: no lockout lasts longer, however many came before it in a row. */
  readonly lockoutMaxSeconds: number;
  /** MFA_MAX_CONSECUTIVE_FAILURES: failed code checks in a row that suspend the user's TOTP (NIST SP 800-63B-4 §3.2.2). */
  readonly maxConsecutiveFailures: number;
  readonly rememberDeviceDays: number;
  readonly maxRememberedDevices: number;
  /** Most authenticators per user (each adds 3 in 10^6 to a guess's odds). */
  readonly maxAuthenticators: number;
  /** Most server streams (WatchTotpEnrollment, WatchSecurityEvents) open at once on one instance. */
  readonly maxWatchStreams: number;
  /** How long security events are kept (MFA_EVENT_RETENTION_DAYS, in seconds). */
  readonly eventRetentionSeconds: number;
  /** A WatchSecurityEvents stream sends a heartbeat after this long without an event. */
  readonly eventHeartbeatSeconds: number;
  /** How often each instance sweeps outboxes for events a dead instance left unrelayed. */
  readonly eventSweepSeconds: number;
  /**
   * MFA_TOTP_COPY_SECONDS (the setting keeps its first name): how long the login copy, VerifyTotp's Redis copy
   * of a user's record, lives after it was last taken or read; 0: no copy, every login reads MongoDB.
   */
  readonly loginCopySeconds: number;
  readonly storeTimeoutMs: number;
  /** MFA_ASSERTION_ISSUER: the iss of MFA assertions (issue 25); null: assertions are off. */
  readonly assertionIssuer: string | null;
  /** MFA_ASSERTION_TTL_SECONDS: how long an MFA assertion is valid. */
  readonly assertionTtlSeconds: number;
  /** MFA_ASSERTION_KEY_ROTATION_DAYS: each signing key signs for this long, published one such period before. */
  readonly assertionKeyRotationDays: number;
  readonly logLevel: string;
  /** LOG_FORMAT; null when unset: main.ts picks pretty on a terminal outside production, else JSON. */
  readonly logFormat: 'json' | 'pretty' | null;
  /** Callers and their bearer tokens; empty means calls are not authenticated. */
  readonly callerTokens: readonly CallerToken[];
  readonly adminCallers: ReadonlySet<string>;
  /** Callers allowed to call WatchSecurityEvents (besides the admin callers). */
  readonly eventCallers: ReadonlySet<string>;
  readonly reflection: boolean;
  readonly tls: TlsConfig | null;
  /** Port of the Prometheus /metrics endpoint; null means none. */
  readonly metricsPort: number | null;
  readonly metricsHost: string;
  readonly shutdownGraceSeconds: number;
  readonly production: boolean;
  /** Security keys (MFA_WEBAUTHN_*, issue 23); null when MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS are not set. */
  readonly webauthn: WebAuthnSettings | null;
}

/** A setting that is missing or malformed; its message is one line for the operator. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): Config {
  const redisUrl = text(env, 'REDIS_URL');
  const mongoUrl = text(env, 'MONGO_URL');
  if ((redisUrl === undefined) !== (mongoUrl === undefined)) {
    throw new ConfigError('set both REDIS_URL and MONGO_URL (external stores) or neither (embedded in-memory stores)');
  }
  if (mongoUrl !== undefined) {
    try {
      assertDurableMongoUrl(mongoUrl);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  if (redisUrl !== undefined && boolean(env, 'REDIS_CLUSTER', false)) {
    try {
      parseClusterSeeds(redisUrl);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  }
  const stores: StoreConfig =
    redisUrl !== undefined && mongoUrl !== undefined
      ? {
          kind: 'external',
          redisUrl,
          redisCluster: boolean(env, 'REDIS_CLUSTER', false),
          redisKeyPrefix: redisKeyPrefix(env),
          mongoUrl,
          mongoDb: text(env, 'MONGO_DB') ?? 'mfa',
        }
      : { kind: 'memory' };
  const keysText = text(env, 'MFA_ENCRYPTION_KEYS');
  if (keysText === undefined && stores.kind === 'external') {
    throw new ConfigError('MFA_ENCRYPTION_KEYS is required with REDIS_URL and MONGO_URL; see README "Generating a key"');
  }
  let keyring: Keyring | null = null;
  try {
    keyring = keysText === undefined ? null : parseKeyring(keysText);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const issuer = text(env, 'MFA_ISSUER') ?? 'MFA Service';
  if (issuer.length > 64 || issuer.includes(':')) throw new ConfigError('MFA_ISSUER must be at most 64 characters without ":"');
  const tokensText = text(env, 'MFA_AUTH_TOKENS');
  let callerTokens: CallerToken[] = [];
  try {
    callerTokens = tokensText === undefined ? [] : parseCallerTokens(tokensText);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const adminCallers = callerNames(env, 'MFA_ADMIN_CALLERS', callerTokens);
  const lockoutSeconds = integer(env, 'MFA_LOCKOUT_SECONDS', 900, 1, 86_400);
  const maxFailedAttempts = integer(env, 'MFA_MAX_FAILED_ATTEMPTS', 5, 1, 100);
  const eventCallers = callerNames(env, 'MFA_EVENT_CALLERS', callerTokens);
  return Object.freeze({
    grpcHost: text(env, 'GRPC_HOST') ?? '0.0.0.0',
    grpcPort: integer(env, 'GRPC_PORT', 50051, 0, 65535),
    stores: Object.freeze(stores),
    keyring,
    issuer,
    enrollmentTtlSeconds: integer(env, 'MFA_ENROLLMENT_TTL_SECONDS', 60, 1, 3600),
    maxFailedAttempts,
    maxConsecutiveFailures: integer(env, 'MFA_MAX_CONSECUTIVE_FAILURES', 100, maxFailedAttempts, 100),
    lockoutSeconds,
    lockoutMaxSeconds: lockoutMaxSeconds(env, lockoutSeconds),
    rememberDeviceDays: integer(env, 'MFA_REMEMBER_DEVICE_DAYS', 30, 1, 365),
    maxRememberedDevices: integer(env, 'MFA_MAX_REMEMBERED_DEVICES', 20, 1, 100),
    maxAuthenticators: integer(env, 'MFA_MAX_AUTHENTICATORS', 5, 1, 10),
    maxWatchStreams: integer(env, 'MFA_MAX_WATCH_STREAMS', 1000, 1, 100_000),
    eventRetentionSeconds: retentionSeconds(env),
    eventHeartbeatSeconds: integer(env, 'MFA_EVENT_HEARTBEAT_SECONDS', 15, 1, 15),
    eventSweepSeconds: integer(env, 'MFA_EVENT_SWEEP_SECONDS', 5, 1, 3600),
    loginCopySeconds: integer(env, 'MFA_TOTP_COPY_SECONDS', 7 * 86_400, 0, 90 * 86_400),
    // At most 2.4 s: with the MongoDB driver's one retry a call still fails within 5 s.
    storeTimeoutMs: integer(env, 'MFA_STORE_TIMEOUT_MS', 2000, 100, 2400),
    assertionIssuer: assertionIssuer(env),
    assertionTtlSeconds: integer(env, 'MFA_ASSERTION_TTL_SECONDS', 300, 10, 3600),
    assertionKeyRotationDays: integer(env, 'MFA_ASSERTION_KEY_ROTATION_DAYS', 30, 1, 365),
    logLevel: logLevel(env),
    logFormat: logFormat(env),
    callerTokens,
    adminCallers: new Set(adminCallers),
    eventCallers: new Set(eventCallers),
    reflection: boolean(env, 'GRPC_REFLECTION', true),
    tls: tlsConfig(env),
    metricsPort: text(env, 'METRICS_PORT') === undefined ? null : integer(env, 'METRICS_PORT', 0, 0, 65535),
    metricsHost: text(env, 'METRICS_HOST') ?? '0.0.0.0',
    shutdownGraceSeconds: integer(env, 'MFA_SHUTDOWN_GRACE_SECONDS', 10, 0, 300),
    production: env['NODE_ENV'] === 'production',
    webauthn: webauthnSettings(env, issuer),
  });
}

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** MFA_LOCKOUT_MAX_SECONDS: the longest lockout (issue 22), from MFA_LOCKOUT_SECONDS to a week. */
function lockoutMaxSeconds(env: Env, lockoutSeconds: number): number {
  const seconds = integer(env, 'MFA_LOCKOUT_MAX_SECONDS', 86_400, 1, 604_800);
  if (seconds < lockoutSeconds) {
    throw new ConfigError(`MFA_LOCKOUT_MAX_SECONDS must be at least MFA_LOCKOUT_SECONDS (${lockoutSeconds}), got "${seconds}"`);
  }
  return seconds;
}

/** MFA_ASSERTION_ISSUER: 1 to 256 printable ASCII characters, typically the service's URL; unset turns assertions off. */
function assertionIssuer(env: Env): string | null {
  const issuer = text(env, 'MFA_ASSERTION_ISSUER');
  if (issuer === undefined) return null;
  if (!/^[\x21-\x7e]{1,256}$/.test(issuer)) {
    throw new ConfigError('MFA_ASSERTION_ISSUER must be 1 to 256 printable ASCII characters without spaces, such as https://mfa.internal');
  }
  return issuer;
}

/** A comma-separated list of caller names, each of which must have a token in MFA_AUTH_TOKENS. */
function callerNames(env: Env, name: string, callerTokens: readonly CallerToken[]): string[] {
  const names = (text(env, name) ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  for (const caller of names) {
    if (!callerTokens.some((t) => t.name === caller)) throw new ConfigError(`${name} names "${caller}", which is not a caller in MFA_AUTH_TOKENS`);
  }
  return names;
}

/** MFA_EVENT_RETENTION_DAYS: days, a fraction allowed (tests keep events for seconds), from 1 second to 10 years. */
function retentionSeconds(env: Env): number {
  const value = text(env, 'MFA_EVENT_RETENTION_DAYS');
  if (value === undefined) return 90 * 86_400;
  const seconds = Math.round(Number(value) * 86_400);
  if (!/^\d+(\.\d+)?$/.test(value) || seconds < 1 || seconds > 3650 * 86_400) {
    throw new ConfigError(`MFA_EVENT_RETENTION_DAYS must be a number of days from 0.00002 (about 2 s) to 3650, got "${value}"`);
  }
  return seconds;
}

/**
 * MFA_REDIS_KEY_PREFIX: what every Redis key and channel of the service starts
 * with, so that several deployments (or test files) share one Redis. No braces:
 * the keys' Cluster hash tags are the service's own.
 */
function redisKeyPrefix(env: Env): string {
  const prefix = text(env, 'MFA_REDIS_KEY_PREFIX') ?? DEFAULT_REDIS_KEY_PREFIX;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError(`MFA_REDIS_KEY_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . : -, got "${prefix}"`);
  }
  return prefix;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(env: Env): string {
  const level = text(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  return level;
}

function logFormat(env: Env): 'json' | 'pretty' | null {
  const format = text(env, 'LOG_FORMAT');
  if (format === undefined || format === 'json' || format === 'pretty') return format ?? null;
  throw new ConfigError(`LOG_FORMAT must be json or pretty, got "${format}"`);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

function tlsConfig(env: Env): TlsConfig | null {
  const certPath = text(env, 'GRPC_TLS_CERT');
  const keyPath = text(env, 'GRPC_TLS_KEY');
  const caPath = text(env, 'GRPC_TLS_CLIENT_CA');
  if (certPath === undefined && keyPath === undefined && caPath === undefined) return null;
  if (certPath === undefined || keyPath === undefined) {
    throw new ConfigError('set both GRPC_TLS_CERT and GRPC_TLS_KEY (GRPC_TLS_CLIENT_CA needs them too)');
  }
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  };
  return {
    cert: read('GRPC_TLS_CERT', certPath),
    key: read('GRPC_TLS_KEY', keyPath),
    clientCa: caPath === undefined ? null : read('GRPC_TLS_CLIENT_CA', caPath),
  };
}

/**
 * MFA_WEBAUTHN_*: security keys and passkeys (issue 23), on when both
 * MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS are set; null (off) when
 * neither is. Origins are full origins (scheme, host, port); the RP ID is
 * their registrable domain or a suffix of it (WebAuthn §5.1.3 checks it).
 */
function webauthnSettings(env: Env, issuer: string): WebAuthnSettings | null {
  const rpId = text(env, 'MFA_WEBAUTHN_RP_ID');
  const originsText = text(env, 'MFA_WEBAUTHN_ORIGINS');
  if (rpId === undefined && originsText === undefined) return null;
  if (rpId === undefined || originsText === undefined) throw new ConfigError('set both MFA_WEBAUTHN_RP_ID and MFA_WEBAUTHN_ORIGINS to turn security keys on');
  if (!/^[a-z0-9.-]{1,253}$/.test(rpId)) throw new ConfigError(`MFA_WEBAUTHN_RP_ID must be a domain such as example.com, got "${rpId}"`);
  const origins = originsText.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of origins) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = null;
    }
    if (parsed === null || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
      throw new ConfigError(`MFA_WEBAUTHN_ORIGINS must list origins such as https://example.com (no path or trailing slash), got "${origin}"`);
    }
  }
  const rpName = text(env, 'MFA_WEBAUTHN_RP_NAME') ?? issuer;
  if (rpName.length > 64) throw new ConfigError('MFA_WEBAUTHN_RP_NAME must be at most 64 characters');
  const attestation = oneOf(env, 'MFA_WEBAUTHN_ATTESTATION', ['none', 'direct'] as const, 'none');
  const attestationRoots = attestationRootsSetting(env, attestation);
  return Object.freeze({
    rpId,
    rpName,
    origins: Object.freeze(origins),
    userVerification: oneOf(env, 'MFA_WEBAUTHN_USER_VERIFICATION', ['preferred', 'required', 'discouraged'] as const, 'preferred'),
    residentKey: oneOf(env, 'MFA_WEBAUTHN_RESIDENT_KEY', ['discouraged', 'preferred', 'required'] as const, 'discouraged'),
    challengeMs: integer(env, 'MFA_WEBAUTHN_CHALLENGE_SECONDS', 120, 30, 600) * 1000,
    attestation,
    attestationRoots,
  });
}

/** MFA_WEBAUTHN_ATTESTATION_ROOTS: a PEM file, read once at start-up; required with `direct`, refused with `none`. */
function attestationRootsSetting(env: Env, attestation: 'none' | 'direct'): readonly string[] {
  const path = text(env, 'MFA_WEBAUTHN_ATTESTATION_ROOTS');
  if (attestation === 'none') {
    if (path !== undefined) throw new ConfigError('MFA_WEBAUTHN_ATTESTATION_ROOTS is used only with MFA_WEBAUTHN_ATTESTATION=direct');
    return Object.freeze([]);
  }
  if (path === undefined) throw new ConfigError('MFA_WEBAUTHN_ATTESTATION=direct needs MFA_WEBAUTHN_ATTESTATION_ROOTS (a PEM file of the accepted roots)');
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`MFA_WEBAUTHN_ATTESTATION_ROOTS: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return Object.freeze(parseAttestationRoots(pem));
  } catch (error) {
    throw new ConfigError(`MFA_WEBAUTHN_ATTESTATION_ROOTS: ${path}: ${(error as Error).message}`);
  }
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}
