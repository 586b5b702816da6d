import { AUTHENTICATOR_ID_PATTERN, DEFAULT_AUTHENTICATOR_LABEL, LEGACY_AUTHENTICATOR_ID } from '../../domain/authenticators.js';
import type { RecoveryCodeSet } from '../../domain/recovery-codes.js';
import type { AuthenticatorRecord, DeviceRecord, FactorRecord } from '../ports/index.js';
import type { OutboxEntry } from './outbox-entry.js';

/**
 * One document per user holds all of the user's durable MFA state, so every
 * change is a single-document write, atomic on MongoDB without transactions.
 * (FerretDB does not isolate concurrent updates of one document: see ferretdb/ferretdb.ts;
 * serializedFactorStore serializes them there.) Authenticators and devices are maps keyed by their
 * ids (not arrays) so they can be added, changed and removed by path without positional operators.
 *
 * Documents written before several authenticators have `sealedSecret` and `lastTimeStep` at the
 * top level instead of `authenticators`: they read as one authenticator (LEGACY_AUTHENTICATOR_ID),
 * and upgrade() rewrites them in today's shape before the service writes to that authenticator.
 *
 * `outbox` holds the security events of the document's changes until EventRelay has moved them to
 * the event log: each write $pushes its events in the same update as its change. Taking events
 * out ($pullAll of the entries as written) does not move `version`: it changes nothing a versioned
 * write depends on.
 */
export interface FactorDocument {
  _id: string;
  enabled: boolean;
  enabledAt: Date | null;
  authenticators?: Record<string, Omit<AuthenticatorRecord, 'authenticatorId'>>;
  /** Legacy shape only. */
  sealedSecret?: string | null;
  /** Legacy shape only. */
  lastTimeStep?: number;
  recoveryCodes: RecoveryCodeSet | null;
  devices: Record<string, Omit<DeviceRecord, 'deviceId'>>;
  sessionsRevokedAt: Date | null;
  /** Missing on documents written before versions existed (read as 0). */
  version?: number;
  /** Missing until the first event. */
  outbox?: OutboxEntry[];
  /** DurableFailures (issue 22); each missing while 0 or null: every success $unsets them (FAILURE_FIELDS). */
  failedChecks?: number;
  lockouts?: number;
  totpSuspendedAt?: Date;
  /** FactorRecord.webauthnUserHandle; missing until the first BeginWebAuthnRegistration, kept when MFA goes off. */
  webauthnUserHandle?: string;
}

// The durable failures, removed by every spend of a code and by turning MFA on or off.
export const FAILURE_FIELDS = { failedChecks: '', lockouts: '', totpSuspendedAt: '' } as const;

// The fields of the shape of before several authenticators, removed by every write that sets `authenticators`.
export const LEGACY_FIELDS = { sealedSecret: '', lastTimeStep: '' } as const;

/** An authenticator id as a field name: only ids as minted (never a '.' or a '$') reach a path. */
export function authenticatorPath(authenticatorId: string): string {
  if (!AUTHENTICATOR_ID_PATTERN.test(authenticatorId)) throw new Error('not an authenticator id');
  return authenticatorId;
}

export function withoutId(authenticator: AuthenticatorRecord): Omit<AuthenticatorRecord, 'authenticatorId'> {
  const { authenticatorId: _id, ...rest } = authenticator;
  return rest;
}

/**
 * A top-level secret and no authenticators: the first version's shape. (An instance of the first
 * version may also enable a user that today's code turned off, leaving `authenticators` empty.)
 */
export function isLegacy(doc: FactorDocument): boolean {
  return typeof doc.sealedSecret === 'string' && Object.keys(doc.authenticators ?? {}).length === 0;
}

export function toDevices(doc: Pick<FactorDocument, 'devices'>): DeviceRecord[] {
  return Object.entries(doc.devices ?? {}).map(([deviceId, device]) => ({ deviceId, ...device }));
}

/** The record a document says; a legacy document reads as its one authenticator (LEGACY_AUTHENTICATOR_ID). */
export function toRecord(doc: FactorDocument): FactorRecord {
  const legacy = isLegacy(doc);
  const stored = legacy
    ? {
        [LEGACY_AUTHENTICATOR_ID]: {
          label: DEFAULT_AUTHENTICATOR_LABEL,
          sealedSecret: doc.sealedSecret!,
          lastTimeStep: doc.lastTimeStep ?? 0,
          createdAt: doc.enabledAt ?? new Date(0),
          lastUsedAt: null,
        },
      }
    : (doc.authenticators ?? {});
  const authenticators = Object.entries(stored)
    .map(([authenticatorId, a]) => ({ authenticatorId, ...a }))
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.authenticatorId.localeCompare(b.authenticatorId));
  return {
    userId: doc._id,
    enabled: doc.enabled,
    enabledAt: doc.enabledAt,
    authenticators: doc.enabled ? authenticators : [],
    legacy,
    recoveryCodes: doc.recoveryCodes,
    devices: toDevices(doc),
    sessionsRevokedAt: doc.sessionsRevokedAt ?? null,
    version: doc.version ?? 0,
    failures: { count: doc.failedChecks ?? 0, lockouts: doc.lockouts ?? 0, totpSuspendedAt: doc.totpSuspendedAt ?? null },
    webauthnUserHandle: doc.webauthnUserHandle ?? null,
  };
}
