/**
 * What the routes share: the clients of the MFA service, the sessions and
 * the security-event follower. Built once in main.ts.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import { createMfaClient, MfaServiceClient, type MfaClient } from 'mfa-service/client';
import type { ExternalService } from './demo-config.js';
import { SecurityEventFollower } from './security-event-follower.js';
import { Sessions } from './sessions.js';

export interface Backend {
  /** The settings page's own calls, with its own token. */
  readonly mfa: MfaClient;
  /** DEMO-GRADE: ListAuditEvents needs an admin caller; a real page would ask an audit service that filters by user. */
  readonly admin: MfaClient;
  /** The generated client, for WatchTotpEnrollment (a stream), with the settings page's token. */
  readonly streams: { readonly client: MfaServiceClient; readonly auth: Metadata };
  readonly sessions: Sessions;
  /** One WatchSecurityEvents follower for the whole backend, fanned out by user. */
  readonly activity: SecurityEventFollower;
  log(line: string): void;
  close(): void;
}

function bearer(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export function createBackend(service: ExternalService, log: (line: string) => void): Backend {
  const mfa = createMfaClient({ address: service.address, token: service.token });
  const admin = createMfaClient({ address: service.address, token: service.adminToken });
  const client = new MfaServiceClient(service.address, credentials.createInsecure());
  const activity = new SecurityEventFollower({ client, auth: bearer(service.eventsToken), log });
  return {
    mfa,
    admin,
    streams: { client, auth: bearer(service.token) },
    sessions: new Sessions(),
    activity,
    log,
    close: () => {
      activity.stop();
      mfa.close();
      admin.close();
      client.close();
    },
  };
}
