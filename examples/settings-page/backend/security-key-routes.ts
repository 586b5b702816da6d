/**
 * Registering a security key (WebAuthn): BeginWebAuthnRegistration gives the
 * options for navigator.credentials.create in the page, and
 * FinishWebAuthnRegistration takes the browser's answer. The JSON strings pass
 * through unchanged. As the first factor it turns MFA on and logs the user
 * out everywhere, so it ends this session after handing out the recovery
 * codes, once, as the authenticator app's Confirm does; an additional key
 * needs a code of an authenticator the user has (or a recovery code).
 */
import type { Backend } from './backend.js';
import { field } from './http-kit.js';
import { signOut, type Route } from './web-app.js';

export function securityKeyRoutes(backend: Backend): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/security-key/begin',
      needs: 'signed-in',
      async handle({ session, body }) {
        const userId = session!.userId;
        const { registrationId, optionsJson } = await backend.mfa.beginWebAuthnRegistration({
          userId,
          userName: `${userId}@example.com`,
          userDisplayName: userId,
          authenticatorLabel: field(body, 'label').slice(0, 64),
          addAuthenticator: body['add'] === true,
        });
        return { registrationId, optionsJson };
      },
    },
    {
      method: 'POST',
      path: '/api/security-key/finish',
      needs: 'signed-in',
      async handle(context) {
        const { body, session } = context;
        const answer = await backend.mfa.finishWebAuthnRegistration({
          userId: session!.userId,
          registrationId: field(body, 'registrationId'),
          credentialJson: field(body, 'credentialJson'),
          existingCode: field(body, 'existingCode'),
        });
        // The first authenticator turned MFA on: the service revoked every session of the user, this one too.
        const signedOut = answer.sessionsRevokedAt !== undefined;
        if (signedOut) signOut(backend, context);
        return { recoveryCodes: answer.recoveryCodes, signedOut };
      },
    },
  ];
}
