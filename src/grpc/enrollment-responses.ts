import { TOTP_DIGITS, TOTP_PERIOD_SECONDS } from '../domain/totp.js';
import { TotpAlgorithm, type BeginTotpEnrollmentResponse, type WatchTotpEnrollmentResponse } from '../gen/mfa/v1/mfa.js';
import type { BegunEnrollment } from '../services/enrollment/enrollment-service.js';
import type { WatchEvent } from '../services/enrollment/enrollment-watch-service.js';

/** A begun enrollment as BeginTotpEnrollment answers it, and WatchTotpEnrollment sends it. */
export function toBeginResponse(begun: BegunEnrollment): BeginTotpEnrollmentResponse {
  return {
    enrollmentId: begun.enrollmentId,
    authenticatorId: begun.authenticatorId,
    secret: begun.secret,
    otpauthUri: begun.otpauthUri,
    // A rendering not asked for (qr_formats) is left empty.
    qrCodePng: begun.qrCodes.png ?? Buffer.alloc(0),
    qrCodeSvg: begun.qrCodes.svg ?? '',
    qrCodeText: begun.qrCodes.text ?? '',
    expiresAt: begun.expiresAt,
    algorithm: TotpAlgorithm.TOTP_ALGORITHM_SHA1,
    digits: TOTP_DIGITS,
    periodSeconds: TOTP_PERIOD_SECONDS,
  };
}

/** One event of a watch as a WatchTotpEnrollment message (exactly one field of its oneof set). */
export function toWatchResponse(event: WatchEvent): WatchTotpEnrollmentResponse {
  switch (event.kind) {
    case 'enrollment':
      return { enrollment: toBeginResponse(event.enrollment) };
    case 'confirmed':
      return { confirmed: { authenticatorId: event.authenticatorId, enabledAt: event.enabledAt } };
    case 'expired':
      return { expired: {} };
  }
}
