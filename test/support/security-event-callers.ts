import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { SecurityEventType } from '../../src/gen/mfa/v1/mfa.js';
import { decodeFailure, type RpcFailure } from './grpc-client.js';
import { callMetadata, watchSecurityEvents, type SecurityEventWatch } from './security-event-stream.js';
import type { StreamEnd } from './watch-client.js';

/** Three callers: `app` calls the usual RPCs, `notifier` follows the events (MFA_EVENT_CALLERS), `ops` is an admin. */
export const TOKENS = {
  app: 'app-token-0123456789abcdef',
  notifier: 'notifier-token-0123456789abcdef',
  ops: 'ops-token-0123456789abcdef',
} as const;

/** The service settings that make those callers. */
export const AUTH_ENV: Readonly<Record<string, string>> = {
  MFA_AUTH_TOKENS: Object.entries(TOKENS).map(([name, token]) => `${name}:${token}`).join(','),
  MFA_ADMIN_CALLERS: 'ops',
  MFA_EVENT_CALLERS: 'notifier',
};

/** Metadata of a call by `caller`, with this x-request-id (else one the service makes up). */
export const as = (caller: keyof typeof TOKENS, requestId?: string) => callMetadata({ token: TOKENS[caller], requestId });

/** Opens a WatchSecurityEvents stream as the notifier. */
export const follow = (port: number, afterCursor = '', types: SecurityEventType[] = []) =>
  watchSecurityEvents(port, { afterCursor, types }, { metadata: as('notifier') });

/** The first message, which must be a heartbeat: its cursor. */
export async function openingCursor(watch: SecurityEventWatch): Promise<string> {
  const first = await watch.next(15_000);
  expect(first.event, 'the first message is a heartbeat').to.equal(undefined);
  expect(first.heartbeat?.cursor).to.be.a('string').and.not.equal('');
  return first.heartbeat!.cursor;
}

/** The error details of a stream that must have failed. */
export function failureOf(end: StreamEnd): RpcFailure {
  expect(end.error, `the stream ended ${status[end.code]}`).to.not.equal(null);
  return decodeFailure(end.error!);
}

/**
 * Retries a call that answers UNAVAILABLE, as callers are told to (FerretDB under load times out; a killed
 * instance's locks hold); `onRetry` hears of each retry (the failed attempt may still have committed).
 */
export async function retryingUnavailable<T>(call: () => Promise<T>, onRetry: () => void = () => {}, maxWaitMs = 40_000): Promise<T> {
  for (let waited = 0; ; waited += 250) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: number }).code !== status.UNAVAILABLE || waited > maxWaitMs) throw error;
      onRetry();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
