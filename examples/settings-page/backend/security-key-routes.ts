/**
 * Registering a security key (WebAuthn): BeginWebAuthnRegistration gives the
 * options for navigator.credentials.create in the page, and
 * FinishWebAuthnRegistration takes the browser's answer. The JSON strings pass
 * through unchanged. As the first factor it turns MFA on and logs the user
 * out everywhere, so it ends this session after handing out the recovery
 * codes, once, as the authenticator app's Confirm does; an additional key
 * needs a code of an authenticator the user has (or a recovery code).
 * A key's assertion may also prove a change instead of a code (proofOf).
 */
import type { Backend } from './backend.js';
import { field } from './http-kit.js';
import { signOut, type Route } from './web-app.js';

/**
 * The proof a change asks for ("Prove it's you"): the `code` typed, or a
 * security key's `assertion` ({ challengeId, credentialJson }, to a challenge
 * of /api/security-key/challenge), as the request's code or webauthn_assertion.
 */
export function proofOf(body: Record<string, unknown>): { code: string } | { webauthnAssertion: { challengeId: string; credentialJson: string } } {
  const assertion = body['assertion'];
  if (typeof assertion !== 'object' || assertion === null) return { code: field(body, 'code') };
  const answer = assertion as Record<string, unknown>;
  return { webauthnAssertion: { challengeId: field(answer, 'challengeId'), credentialJson: field(answer, 'credentialJson') } };
}

export function securityKeyRoutes(backend: Backend): Route[] {
  return [
    {
      // A challenge for one of the user's keys, whose answer proves a change (proofOf).
      method: 'POST',
      path: '/api/security-key/challenge',
      needs: 'signed-in',
      async handle({ session }) {
        const { challengeId, optionsJson } = await backend.mfa.beginWebAuthnAuthentication({ userId: session!.userId });
        return { challengeId, optionsJson };
      },
    },
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
