/**
 * Signing in: the password step (demo users), then, when MFA is on and this
 * browser is not a remembered device, the code step: a code from the app
 * (VerifyTotp) or a recovery code (VerifyRecoveryCode), optionally
 * remembering the device (its token in an HttpOnly cookie of this user);
 * or, for a user with a security key, the key's answer (BeginWebAuthnAuthentication,
 * then navigator.credentials.get in the page, then VerifyWebAuthn).
 */
import type { IncomingMessage } from 'node:http';
import { AuthenticatorKind } from 'mfa-service/client';
import type { Backend } from './backend.js';
import { checkPassword, DEMO_PASSWORD, DEMO_USERS } from './demo-users.js';
import { cookies, field, HttpError, setCookie } from './http-kit.js';
import { SESSION_COOKIE, signOut, type Route, type RouteContext } from './web-app.js';

const SESSION_SECONDS = 60 * 60;

/** The cookie that holds a user's remembered-device token on this browser (the demo user names are cookie-safe). */
function deviceCookie(userId: string): string {
  return `device_${userId}`;
}

/** A code of digits (spaces allowed, as apps show it) is from the app; anything else is a recovery code. */
function isAppCode(code: string): boolean {
  return /^[\d\s]+$/.test(code);
}

/** "Chromium on Linux": the remembered device's label, from the User-Agent, as a person would name it. */
function deviceLabel(req: IncomingMessage): string {
  const agent = req.headers['user-agent'] ?? '';
  const browser = /Edg\//.test(agent) ? 'Edge' : /Firefox\//.test(agent) ? 'Firefox' : /Chrom(e|ium)\//.test(agent) ? 'Chromium' : /Safari\//.test(agent) ? 'Safari' : 'A browser';
  const system = /Windows/.test(agent) ? 'Windows' : /Mac OS X/.test(agent) ? 'macOS' : /Android/.test(agent) ? 'Android' : /Linux/.test(agent) ? 'Linux' : 'an unknown system';
  return `${browser} on ${system}`;
}

/** After a passed second step: keeps the remembered-device token, if any, and starts the signed-in session. */
function passedSecondStep(backend: Backend, context: RouteContext, userId: string, answer: { deviceToken: string; deviceExpiresAt?: Date | undefined }): void {
  if (answer.deviceToken !== '' && answer.deviceExpiresAt !== undefined) {
    const seconds = Math.floor((answer.deviceExpiresAt.getTime() - Date.now()) / 1000);
    setCookie(context.res, deviceCookie(userId), answer.deviceToken, seconds);
  }
  // A new session id once the second step passed (never reuse the half-signed-in one).
  startSession(backend, context, userId, 'signed-in');
}

function startSession(backend: Backend, context: RouteContext, userId: string, stage: 'code' | 'signed-in'): void {
  if (context.session !== null) backend.sessions.end(context.session.id);
  const session = backend.sessions.start(userId, stage);
  setCookie(context.res, SESSION_COOKIE, session.id, SESSION_SECONDS);
}

export function signInRoutes(backend: Backend): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/demo-users',
      needs: 'none',
      handle: async () => ({ users: DEMO_USERS, password: DEMO_PASSWORD }),
    },
    {
      method: 'POST',
      path: '/api/sign-in',
      needs: 'none',
      async handle(context) {
        const userId = field(context.body, 'userId').trim().toLowerCase();
        if (!checkPassword(userId, field(context.body, 'password'))) {
          throw new HttpError(401, 'WRONG_PASSWORD', 'That user name and password do not match a demo account.');
        }
        const { enabled } = await backend.mfa.getMfaStatus({ userId });
        let remembered = false;
        const deviceToken = cookies(context.req).get(deviceCookie(userId));
        if (enabled && deviceToken) remembered = (await backend.mfa.checkRememberedDevice({ userId, deviceToken })).remembered;
        const stage = enabled && !remembered ? 'code' : 'signed-in';
        startSession(backend, context, userId, stage);
        return { next: stage === 'code' ? 'code' : 'settings', rememberedDevice: remembered };
      },
    },
    {
      method: 'POST',
      path: '/api/sign-in/code',
      needs: 'code',
      async handle(context) {
        const userId = context.session!.userId;
        const code = field(context.body, 'code');
        const rememberDevice = context.body['rememberDevice'] === true;
        const label = deviceLabel(context.req);
        const answer = isAppCode(code)
          ? await backend.mfa.verifyTotp({ userId, code, rememberDevice, deviceLabel: label })
          : await backend.mfa.verifyRecoveryCode({ userId, recoveryCode: code, rememberDevice, deviceLabel: label });
        passedSecondStep(backend, context, userId, answer);
        return { next: 'settings' };
      },
    },
    {
      method: 'GET',
      path: '/api/sign-in/methods',
      needs: 'code',
      async handle({ session }) {
        // "Use your security key" is offered only to a user who has one, first to one who has nothing else.
        const { authenticators } = await backend.mfa.listAuthenticators({ userId: session!.userId });
        const securityKey = authenticators.some((a) => a.kind === AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN);
        return { securityKey, app: authenticators.some((a) => a.kind !== AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN) };
      },
    },
    {
      method: 'POST',
      path: '/api/sign-in/security-key/begin',
      needs: 'code',
      async handle({ session }) {
        const { challengeId, optionsJson } = await backend.mfa.beginWebAuthnAuthentication({ userId: session!.userId });
        return { challengeId, optionsJson };
      },
    },
    {
      method: 'POST',
      path: '/api/sign-in/security-key',
      needs: 'code',
      async handle(context) {
        const userId = context.session!.userId;
        const answer = await backend.mfa.verifyWebAuthn({
          userId,
          assertion: { challengeId: field(context.body, 'challengeId'), credentialJson: field(context.body, 'credentialJson') },
          rememberDevice: context.body['rememberDevice'] === true,
          deviceLabel: deviceLabel(context.req),
        });
        passedSecondStep(backend, context, userId, answer);
        return { next: 'settings' };
      },
    },
    {
      method: 'POST',
      path: '/api/sign-out',
      needs: 'none',
      async handle(context) {
        signOut(backend, context);
        return {};
      },
    },
  ];
}
