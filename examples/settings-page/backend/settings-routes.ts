/**
 * Sign-in & Security for the signed-in user: the account's MFA state, its
 * authenticators and remembered devices, turning MFA off, new recovery codes.
 * Turning MFA off and removing an authenticator log the user out everywhere,
 * so they end this session too. Each change is proven with a code or a
 * security key's answer (proofOf).
 */
import { AuthenticatorKind } from 'mfa-service/client';
import type { Backend } from './backend.js';
import { field } from './http-kit.js';
import { proofOf } from './security-key-routes.js';
import { signOut, type Route } from './web-app.js';

export function settingsRoutes(backend: Backend): Route[] {
  const { mfa } = backend;
  return [
    {
      method: 'GET',
      path: '/api/account',
      needs: 'signed-in',
      async handle({ session }) {
        const userId = session!.userId;
        const [status, { authenticators }, { devices }] = await Promise.all([
          mfa.getMfaStatus({ userId }),
          mfa.listAuthenticators({ userId }),
          mfa.listRememberedDevices({ userId }),
        ]);
        return {
          userId,
          mfaEnabled: status.enabled,
          enabledAt: status.enabledAt ?? null,
          recoveryCodesRemaining: status.recoveryCodesRemaining,
          totpSuspended: status.totpSuspendedAt !== undefined,
          authenticators: authenticators.map((a) => ({
            id: a.authenticatorId,
            label: a.label,
            kind: a.kind === AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN ? 'security-key' : 'app',
            createdAt: a.createdAt ?? null, lastUsedAt: a.lastUsedAt ?? null,
          })),
          devices: devices.map((d) => ({ id: d.deviceId, label: d.label, createdAt: d.createdAt ?? null, expiresAt: d.expiresAt ?? null })),
        };
      },
    },
    {
      method: 'POST',
      path: '/api/mfa/disable',
      needs: 'signed-in',
      async handle(context) {
        await mfa.disableMfa({ userId: context.session!.userId, ...proofOf(context.body) });
        signOut(backend, context);
        return { signedOut: true };
      },
    },
    {
      method: 'POST',
      path: '/api/recovery-codes',
      needs: 'signed-in',
      async handle({ session, body }) {
        const { recoveryCodes } = await mfa.regenerateRecoveryCodes({ userId: session!.userId, ...proofOf(body) });
        return { recoveryCodes };
      },
    },
    {
      method: 'POST',
      path: '/api/authenticators/rename',
      needs: 'signed-in',
      async handle({ session, body }) {
        await mfa.renameAuthenticator({ userId: session!.userId, authenticatorId: field(body, 'authenticatorId'), label: field(body, 'label').trim() });
        return {};
      },
    },
    {
      method: 'POST',
      path: '/api/authenticators/remove',
      needs: 'signed-in',
      async handle(context) {
        const { session, body } = context;
        await mfa.removeAuthenticator({ userId: session!.userId, authenticatorId: field(body, 'authenticatorId'), ...proofOf(body) });
        signOut(backend, context);
        return { signedOut: true };
      },
    },
    {
      method: 'POST',
      path: '/api/devices/forget',
      needs: 'signed-in',
      async handle({ session, body }) {
        await mfa.forgetRememberedDevice({ userId: session!.userId, deviceId: field(body, 'deviceId') });
        return {};
      },
    },
  ];
}
