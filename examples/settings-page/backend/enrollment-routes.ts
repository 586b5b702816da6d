/**
 * Enrolling an authenticator app with a QR code that refreshes itself: one
 * WatchTotpEnrollment stream per open dialog, relayed to the browser as
 * Server-Sent Events (an `enrollment` event per QR code, then `confirmed`,
 * `expired` or `failed`). The gRPC stream is cancelled as soon as the browser
 * goes away. Confirming turns MFA on and logs the user out everywhere, so it
 * ends this session after handing out the recovery codes, once.
 */
import { MfaClientError, type WatchTotpEnrollmentResponse } from 'mfa-service/client';
import type { ServiceError } from '@grpc/grpc-js';
import type { Backend } from './backend.js';
import { explain } from './error-words.js';
import { field, openEventStream } from './http-kit.js';
import { signOut, type Route } from './web-app.js';

export function enrollmentRoutes(backend: Backend): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/enrollment/events',
      needs: 'signed-in',
      async handle({ req, res, url, session }) {
        const userId = session!.userId;
        const call = backend.streams.client.watchTotpEnrollment(
          {
            userId,
            accountName: `${userId}@example.com`,
            issuer: '',
            authenticatorLabel: field(Object.fromEntries(url.searchParams), 'label').slice(0, 64),
            addAuthenticator: url.searchParams.get('add') === '1',
            maxRefreshes: 0, // 10 fresh QR codes, then `expired`
          },
          backend.streams.auth,
        );
        // The browser closed the dialog or the page: stop the refreshes (the last enrollment is left to expire).
        const events = openEventStream(req, res, () => call.cancel());
        call.on('data', (message: WatchTotpEnrollmentResponse) => {
          const { enrollment, confirmed } = message;
          if (enrollment !== undefined) {
            events.send('enrollment', {
              enrollmentId: enrollment.enrollmentId,
              secret: enrollment.secret,
              qrCode: `data:image/png;base64,${enrollment.qrCodePng.toString('base64')}`,
              // Seconds rather than a time, so that the browser's clock does not matter.
              secondsLeft: Math.max(0, Math.round(((enrollment.expiresAt?.getTime() ?? Date.now()) - Date.now()) / 1000)),
            });
          } else if (confirmed !== undefined) {
            events.send('confirmed', {});
          } else {
            events.send('expired', { message: 'The QR code expired. Start again when you are ready to scan it.' });
          }
        });
        call.on('error', (error: ServiceError) => {
          if (req.destroyed) return; // our own cancel
          const { reason, message } = explain(new MfaClientError(error));
          events.send('failed', { reason, message });
          events.end();
        });
        call.on('end', () => events.end());
      },
    },
    {
      method: 'POST',
      path: '/api/enrollment/confirm',
      needs: 'signed-in',
      async handle(context) {
        const { body, session } = context;
        const answer = await backend.mfa.confirmTotpEnrollment({
          userId: session!.userId,
          enrollmentId: field(body, 'enrollmentId'),
          code: field(body, 'code'),
          existingCode: field(body, 'existingCode'),
        });
        // The first authenticator turned MFA on: the service revoked every session of the user, this one too.
        const signedOut = answer.sessionsRevokedAt !== undefined;
        if (signedOut) signOut(backend, context);
        return { recoveryCodes: answer.recoveryCodes, signedOut };
      },
    },
    {
      method: 'POST',
      path: '/api/enrollment/cancel',
      needs: 'signed-in',
      async handle({ session, body }) {
        await backend.mfa.cancelTotpEnrollment({ userId: session!.userId, enrollmentId: field(body, 'enrollmentId') }).catch((error: unknown) => {
          // Already expired or replaced: nothing left to cancel.
          if (!(error instanceof MfaClientError && error.reason === 'ENROLLMENT_NOT_FOUND')) throw error;
        });
        return {};
      },
    },
  ];
}
