import { addLogFields, currentActor } from '../call-scope.js';
import { MAX_AUTHENTICATOR_LABEL } from '../domain/authenticators.js';
import type { QrFormat as QrFormatName } from '../domain/qr-code.js';
import { AuthenticatorKind, QrFormat, qrFormatToJSON, type MfaServiceServer } from '../gen/mfa/v1/mfa.js';
import type { AuthenticatorView } from '../services/authenticators/authenticator-service.js';
import type { MfaServices } from '../services/create-services.js';
import { toBeginResponse, toWatchResponse } from './enrollment-responses.js';
import { EVENT_TYPE_FILTERS, toAuditEvent, toWatchSecurityEventsResponse } from './security-event-messages.js';
import { checkWithAssertion } from './assertion-on-check.js';
import type { ServerStream } from './server-stream.js';
import type { Unary } from './unary.js';
import { validate, type RequestValidator } from './validation.js';

/** qr_formats values and the renderings they ask for. */
const QR_FORMATS = new Map<number, { name: string; value: QrFormatName }>(
  ([[QrFormat.QR_FORMAT_PNG, 'png'], [QrFormat.QR_FORMAT_SVG, 'svg'], [QrFormat.QR_FORMAT_TEXT, 'text']] as const).map(([number, value]) => [
    number,
    { name: qrFormatToJSON(number), value },
  ]),
);

/** WatchTotpEnrollment's max_refreshes: 0 means DEFAULT_MAX_REFRESHES. */
export const DEFAULT_MAX_REFRESHES = 10;
export const MAX_REFRESHES = 60;

/** The MfaService handlers: validate the request, call one service, shape the response (access and metrics: rpc-policies.ts). */
export function createMfaHandlers(services: MfaServices, middleware: { readonly unary: Unary; readonly serverStream: ServerStream }): MfaServiceServer {
  const { enrollment, watch, confirmation, authenticators, verification, devices, sessions, status, admin, audit, securityEvents } = services;
  const { assertions, assertionKeys, redemptions } = services;
  const { webauthnRegistration, webauthnAuthentication } = services;
  const { unary, serverStream } = middleware;
  return {
    beginTotpEnrollment: unary('BeginTotpEnrollment', async (request) => {
      const input = validate((v) => ({
        ...beginInput(v, request),
        // Empty: every rendering, as before the field existed.
        qrFormats: request.qrFormats.length === 0 ? undefined : v.enumSet('qr_formats', request.qrFormats, QR_FORMATS),
      }));
      return toBeginResponse(await enrollment.begin(input));
    }),

    watchTotpEnrollment: serverStream('WatchTotpEnrollment', async (request, stream) => {
      const input = validate((v) => ({ ...beginInput(v, request), maxRefreshes: v.integer('max_refreshes', request.maxRefreshes, 0, MAX_REFRESHES) }));
      const maxRefreshes = input.maxRefreshes === 0 ? DEFAULT_MAX_REFRESHES : input.maxRefreshes;
      return watch.watch({ ...input, maxRefreshes }, (event) => stream.send(toWatchResponse(event)), stream.signal);
    }),

    confirmTotpEnrollment: unary('ConfirmTotpEnrollment', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        enrollmentId: v.id('enrollment_id', request.enrollmentId),
        code: v.totpCode(request.code),
        ...existingProof(v, request),
      }));
      const confirmed = await confirmation.confirm(input);
      return { ...confirmed, sessionsRevokedAt: confirmed.sessionsRevokedAt ?? undefined };
    }),

    cancelTotpEnrollment: unary('CancelTotpEnrollment', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        enrollmentId: v.id('enrollment_id', request.enrollmentId),
      }));
      await enrollment.cancel(input);
      return {};
    }),

    verifyTotp: unary('VerifyTotp', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        code: v.totpCode(request.code),
        rememberDevice: request.rememberDevice,
        deviceLabel: v.optionalText('device_label', request.deviceLabel, 128),
        assertion: v.assertionRequest('mfa_assertion_request', request.mfaAssertionRequest),
      }));
      const { result: verified, assertion } = await checkWithAssertion(
        assertions,
        input.assertion,
        () => verification.verifyTotp(input),
        (v) => ({ userId: input.userId, checked: { method: 'totp', authenticatorId: v.authenticatorId ?? '', authTime: v.verifiedAt } }),
      );
      return {
        verifiedAt: verified.verifiedAt,
        deviceToken: verified.device?.token ?? '',
        deviceExpiresAt: verified.device?.expiresAt,
        authenticatorId: verified.authenticatorId ?? '',
        ...assertion,
      };
    }),

    verifyRecoveryCode: unary('VerifyRecoveryCode', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        recoveryCode: v.recoveryCode(request.recoveryCode),
        rememberDevice: request.rememberDevice,
        deviceLabel: v.optionalText('device_label', request.deviceLabel, 128),
        assertion: v.assertionRequest('mfa_assertion_request', request.mfaAssertionRequest),
      }));
      const { result: verified, assertion } = await checkWithAssertion(
        assertions,
        input.assertion,
        () => verification.verifyRecoveryCode(input),
        (v) => ({ userId: input.userId, checked: { method: 'recovery_code', authenticatorId: null, authTime: v.verifiedAt } }),
      );
      return {
        verifiedAt: verified.verifiedAt,
        recoveryCodesRemaining: verified.recoveryCodesRemaining,
        deviceToken: verified.device?.token ?? '',
        deviceExpiresAt: verified.device?.expiresAt,
        ...assertion,
      };
    }),

    disableMfa: unary('DisableMfa', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        ...v.codeOrAssertion(PROOF_FIELDS, request.code, request.webauthnAssertion, true, (code) => v.totpOrRecoveryCode(code)),
      }));
      const { disabledAt } = await verification.disable(input);
      return { disabledAt, sessionsRevokedAt: disabledAt };
    }),

    regenerateRecoveryCodes: unary('RegenerateRecoveryCodes', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        ...v.codeOrAssertion(PROOF_FIELDS, request.code, request.webauthnAssertion, true, (code) => v.totpCode(code)),
      }));
      return { recoveryCodes: await verification.regenerateRecoveryCodes(input) };
    }),

    getMfaStatus: unary('GetMfaStatus', async (request) => {
      const userId = validate((v) => v.userId(request.userId));
      const found = await status.get(userId);
      return {
        enabled: found.enabled,
        enabledAt: found.enabledAt ?? undefined,
        recoveryCodesRemaining: found.recoveryCodesRemaining,
        rememberedDevices: found.rememberedDevices,
        pendingEnrollmentExpiresAt: found.pendingEnrollmentExpiresAt ?? undefined,
        lockedUntil: found.lockedUntil ?? undefined,
        sessionsRevokedAt: found.sessionsRevokedAt ?? undefined,
        authenticators: found.authenticators,
        totpSuspendedAt: found.totpSuspendedAt ?? undefined,
      };
    }),

    checkRememberedDevice: unary('CheckRememberedDevice', async (request) => {
      const input = validate((v) => ({ userId: v.userId(request.userId), token: v.id('device_token', request.deviceToken) }));
      const { remembered, device } = await devices.check(input.userId, input.token);
      return { remembered, deviceId: device?.deviceId ?? '', expiresAt: device?.expiresAt };
    }),

    listRememberedDevices: unary('ListRememberedDevices', async (request) => {
      const userId = validate((v) => v.userId(request.userId));
      const found = await devices.list(userId);
      return {
        devices: found.map((d) => ({
          deviceId: d.deviceId,
          label: d.label,
          createdAt: d.createdAt,
          lastUsedAt: d.lastUsedAt,
          expiresAt: d.expiresAt,
        })),
      };
    }),

    forgetRememberedDevice: unary('ForgetRememberedDevice', async (request) => {
      const input = validate((v) => ({ userId: v.userId(request.userId), deviceId: v.deviceId(request.deviceId) }));
      await devices.forget(input.userId, input.deviceId);
      return {};
    }),

    revokeSessions: unary('RevokeSessions', async (request) => {
      const userId = validate((v) => v.userId(request.userId));
      return { sessionsRevokedAt: await sessions.revoke(userId) };
    }),

    checkSession: unary('CheckSession', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        issuedAt: v.timestamp('session_issued_at', request.sessionIssuedAt),
      }));
      const checked = await sessions.check(input.userId, input.issuedAt);
      return { revoked: checked.revoked, sessionsRevokedAt: checked.sessionsRevokedAt ?? undefined };
    }),

    resetMfa: unary('ResetMfa', async (request) => {
      const input = validate((v) => ({ userId: v.userId(request.userId), reason: v.id('reason', request.reason, 256) }));
      const { resetAt } = await admin.resetMfa(input.userId, input.reason);
      return { resetAt, sessionsRevokedAt: resetAt };
    }),

    listAuditEvents: unary('ListAuditEvents', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        pageSize: v.integer('page_size', request.pageSize, 0, 2 ** 31 - 1),
        pageToken: v.optionalText('page_token', request.pageToken, 512),
      }));
      const page = await audit.list(input.userId, input.pageSize, input.pageToken);
      return { events: page.events.map(toAuditEvent), nextPageToken: page.nextPageToken };
    }),

    watchSecurityEvents: serverStream('WatchSecurityEvents', async (request, stream) => {
      const input = validate((v) => ({
        afterCursor: v.optionalText('after_cursor', request.afterCursor, 64),
        types: request.types.length === 0 ? null : [...v.enumSet('types', request.types, EVENT_TYPE_FILTERS)],
      }));
      const start = await securityEvents.startPosition(input.afterCursor);
      return securityEvents.watch(start, input.types, {
        send: (message) => stream.send(toWatchSecurityEventsResponse(message)),
        signal: stream.signal,
      });
    }),

    listAuthenticators: unary('ListAuthenticators', async (request) => {
      const userId = validate((v) => v.userId(request.userId));
      return { authenticators: (await authenticators.list(userId)).map(toAuthenticator) };
    }),

    renameAuthenticator: unary('RenameAuthenticator', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        authenticatorId: v.authenticatorId(request.authenticatorId),
        label: v.label('label', request.label, MAX_AUTHENTICATOR_LABEL, true),
      }));
      return { authenticator: toAuthenticator(await authenticators.rename(input)) };
    }),

    removeAuthenticator: unary('RemoveAuthenticator', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        authenticatorId: v.authenticatorId(request.authenticatorId),
        ...v.codeOrAssertion(PROOF_FIELDS, request.code, request.webauthnAssertion, true, (code) => v.totpOrRecoveryCode(code)),
      }));
      const { removedAt } = await authenticators.remove(input);
      return { removedAt, sessionsRevokedAt: removedAt };
    }),

    getMfaAssertionKeys: unary('GetMfaAssertionKeys', async () => {
      assertions.configured();
      return { jwksJson: JSON.stringify((await assertionKeys.jwks()).jwks) };
    }),

    redeemMfaAssertion: unary('RedeemMfaAssertion', async (request) => {
      const input = validate((v) => ({
        token: v.id('mfa_assertion', request.mfaAssertion, 8192),
        audience: v.assertionAudience('audience', request.audience),
        redemptionId: v.id('redemption_id', request.redemptionId),
      }));
      const redeemed = await redemptions.redeem({ ...input, caller: currentActor().caller });
      addLogFields({ assertionJti: redeemed.assertionId });
      return { redeemedAt: redeemed.redeemedAt, userId: redeemed.userId, assertionId: redeemed.assertionId };
    }),

    beginWebAuthnRegistration: unary('BeginWebAuthnRegistration', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        userName: v.id('user_name', request.userName, 128),
        userDisplayName: v.optionalText('user_display_name', request.userDisplayName, 64),
        authenticatorLabel: v.label('authenticator_label', request.authenticatorLabel, MAX_AUTHENTICATOR_LABEL, false),
        addAuthenticator: request.addAuthenticator,
      }));
      return webauthnRegistration.begin(input);
    }),

    finishWebAuthnRegistration: unary('FinishWebAuthnRegistration', async (request) => {
      const input = validate((v) => {
        const { existingCode, existingAssertion } = existingProof(v, request);
        return {
          userId: v.userId(request.userId),
          registrationId: v.id('registration_id', request.registrationId),
          credentialJson: v.credentialJson('credential_json', request.credentialJson),
          code: existingCode,
          assertion: existingAssertion,
        };
      });
      const finished = await webauthnRegistration.finish(input);
      return { ...finished, sessionsRevokedAt: finished.sessionsRevokedAt ?? undefined };
    }),

    beginWebAuthnAuthentication: unary('BeginWebAuthnAuthentication', async (request) => {
      const userId = validate((v) => v.userId(request.userId));
      return webauthnAuthentication.begin(userId);
    }),

    verifyWebAuthn: unary('VerifyWebAuthn', async (request) => {
      const input = validate((v) => ({
        userId: v.userId(request.userId),
        assertion: request.assertion === undefined ? v.assertion('assertion', { challengeId: '', credentialJson: '' }) : v.assertion('assertion', request.assertion),
        rememberDevice: request.rememberDevice,
        deviceLabel: v.optionalText('device_label', request.deviceLabel, 128),
        mfaAssertion: v.assertionRequest('mfa_assertion_request', request.mfaAssertionRequest),
      }));
      const { result: verified, assertion } = await checkWithAssertion(
        assertions,
        input.mfaAssertion,
        () => verification.verifyWebAuthn(input),
        (v) => ({
          userId: input.userId,
          checked: { method: 'webauthn', authenticatorId: v.authenticatorId, authTime: v.verifiedAt, userVerified: v.userVerified, backedUp: v.backedUp },
        }),
      );
      return {
        verifiedAt: verified.verifiedAt,
        authenticatorId: verified.authenticatorId,
        userVerified: verified.userVerified,
        deviceToken: verified.device?.token ?? '',
        deviceExpiresAt: verified.device?.expiresAt,
        ...assertion,
      };
    }),
  };
}

/** The fields BeginTotpEnrollment and WatchTotpEnrollment share, checked alike. */
function beginInput(
  v: RequestValidator,
  request: { userId: string; accountName: string; issuer: string; authenticatorLabel: string; addAuthenticator: boolean },
) {
  return {
    userId: v.userId(request.userId),
    accountName: v.optionalText('account_name', request.accountName, 256),
    issuer: v.issuer(request.issuer),
    authenticatorLabel: v.label('authenticator_label', request.authenticatorLabel, MAX_AUTHENTICATOR_LABEL, false),
    addAuthenticator: request.addAuthenticator,
  };
}

/** The code field and its alternative, a security key's assertion, on DisableMfa, RegenerateRecoveryCodes and RemoveAuthenticator. */
const PROOF_FIELDS = { code: 'code', assertion: 'webauthn_assertion' };

/**
 * existing_code or webauthn_assertion, for adding an authenticator
 * (ConfirmTotpEnrollment, FinishWebAuthnRegistration): at most one here;
 * whether one is required (adding) or refused (a first one) is the service's
 * to say, once it has read the enrollment.
 */
function existingProof(v: RequestValidator, request: { existingCode: string; webauthnAssertion?: { challengeId: string; credentialJson: string } | undefined }) {
  const fields = { code: 'existing_code', assertion: 'webauthn_assertion' };
  const given = v.codeOrAssertion(fields, request.existingCode, request.webauthnAssertion, false, (code) => v.totpOrRecoveryCode(code, 'existing_code'));
  return { existingCode: given.code === '' ? '' : given.code, existingAssertion: given.assertion };
}

/** An authenticator as callers see it: never its secret. */
function toAuthenticator(a: AuthenticatorView) {
  return {
    authenticatorId: a.authenticatorId,
    label: a.label,
    createdAt: a.createdAt,
    lastUsedAt: a.lastUsedAt ?? undefined,
    kind: a.kind === 'webauthn' ? AuthenticatorKind.AUTHENTICATOR_KIND_WEBAUTHN : AuthenticatorKind.AUTHENTICATOR_KIND_TOTP,
    aaguid: a.aaguid,
    transports: [...a.transports],
    backupEligible: a.backupEligible,
    backedUp: a.backedUp,
  };
}
