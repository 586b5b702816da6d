import { Metadata } from '@grpc/grpc-js';
import {
  BeginTotpEnrollmentRequest,
  BeginWebAuthnAuthenticationRequest,
  BeginWebAuthnRegistrationRequest,
  FinishWebAuthnRegistrationRequest,
  VerifyWebAuthnRequest,
  type BeginWebAuthnAuthenticationResponse,
  type BeginWebAuthnRegistrationResponse,
  type FinishWebAuthnRegistrationResponse,
  type VerifyWebAuthnResponse,
  CheckRememberedDeviceRequest,
  CheckSessionRequest,
  ConfirmTotpEnrollmentRequest,
  QrFormat,
  type MfaAssertionRequest,
  VerifyTotpRequest,
  type BeginTotpEnrollmentResponse,
  type CheckRememberedDeviceResponse,
  type CheckSessionResponse,
  type ConfirmTotpEnrollmentResponse,
  type VerifyTotpResponse,
} from '../src/gen/mfa/v1/mfa.js';
import { callUnary, type ClientPool, type UnaryMethod } from './clients.js';

/**
 * The calls the benchmark makes, spread round-robin over the pool's
 * connections. Requests go through `fromPartial` (ts-proto encodes a missing
 * string as "undefined"); MfaService calls carry the bench caller's bearer
 * token, which a server without caller authentication ignores.
 */
export class MfaCalls {
  readonly #metadata = new Metadata();
  readonly #health = new Metadata();

  constructor(
    private readonly pool: ClientPool,
    authToken: string,
  ) {
    this.#metadata.set('authorization', `Bearer ${authToken}`);
  }

  health(): Promise<{ status: string | number }> {
    const client = this.pool.health[this.pool.nextIndex()]!;
    return callUnary(client, client.Check, { service: '' }, this.#health);
  }

  beginTotpEnrollment(userId: string): Promise<BeginTotpEnrollmentResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<BeginTotpEnrollmentRequest, BeginTotpEnrollmentResponse> = client.beginTotpEnrollment;
    // The one rendering a web page shows: each further one costs the server time (qr_formats, issue 11).
    return callUnary(client, method, BeginTotpEnrollmentRequest.fromPartial({ userId, qrFormats: [QrFormat.QR_FORMAT_PNG] }), this.#metadata);
  }

  confirmTotpEnrollment(userId: string, enrollmentId: string, code: string): Promise<ConfirmTotpEnrollmentResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<ConfirmTotpEnrollmentRequest, ConfirmTotpEnrollmentResponse> = client.confirmTotpEnrollment;
    return callUnary(client, method, ConfirmTotpEnrollmentRequest.fromPartial({ userId, enrollmentId, code }), this.#metadata);
  }

  verifyTotp(userId: string, code: string, rememberDevice = false, mfaAssertionRequest?: MfaAssertionRequest): Promise<VerifyTotpResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<VerifyTotpRequest, VerifyTotpResponse> = client.verifyTotp;
    const request = VerifyTotpRequest.fromPartial({ userId, code, rememberDevice, deviceLabel: rememberDevice ? 'bench' : '', mfaAssertionRequest });
    return callUnary(client, method, request, this.#metadata);
  }

  beginWebAuthnRegistration(userId: string): Promise<BeginWebAuthnRegistrationResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<BeginWebAuthnRegistrationRequest, BeginWebAuthnRegistrationResponse> = client.beginWebAuthnRegistration;
    return callUnary(client, method, BeginWebAuthnRegistrationRequest.fromPartial({ userId, userName: userId }), this.#metadata);
  }

  finishWebAuthnRegistration(userId: string, registrationId: string, credentialJson: string): Promise<FinishWebAuthnRegistrationResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<FinishWebAuthnRegistrationRequest, FinishWebAuthnRegistrationResponse> = client.finishWebAuthnRegistration;
    return callUnary(client, method, FinishWebAuthnRegistrationRequest.fromPartial({ userId, registrationId, credentialJson }), this.#metadata);
  }

  beginWebAuthnAuthentication(userId: string): Promise<BeginWebAuthnAuthenticationResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<BeginWebAuthnAuthenticationRequest, BeginWebAuthnAuthenticationResponse> = client.beginWebAuthnAuthentication;
    return callUnary(client, method, BeginWebAuthnAuthenticationRequest.fromPartial({ userId }), this.#metadata);
  }

  verifyWebAuthn(userId: string, challengeId: string, credentialJson: string): Promise<VerifyWebAuthnResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<VerifyWebAuthnRequest, VerifyWebAuthnResponse> = client.verifyWebAuthn;
    return callUnary(client, method, VerifyWebAuthnRequest.fromPartial({ userId, assertion: { challengeId, credentialJson } }), this.#metadata);
  }

  checkSession(userId: string, sessionIssuedAt: Date): Promise<CheckSessionResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<CheckSessionRequest, CheckSessionResponse> = client.checkSession;
    return callUnary(client, method, CheckSessionRequest.fromPartial({ userId, sessionIssuedAt }), this.#metadata);
  }

  checkRememberedDevice(userId: string, deviceToken: string): Promise<CheckRememberedDeviceResponse> {
    const client = this.pool.mfa[this.pool.nextIndex()]!;
    const method: UnaryMethod<CheckRememberedDeviceRequest, CheckRememberedDeviceResponse> = client.checkRememberedDevice;
    return callUnary(client, method, CheckRememberedDeviceRequest.fromPartial({ userId, deviceToken }), this.#metadata);
  }
}
