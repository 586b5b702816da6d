import { ErrorReason, MfaError, type FieldViolation } from '../domain/errors.js';
import { AUTHENTICATOR_ID_PATTERN } from '../domain/authenticators.js';
import { DEVICE_ID_PATTERN } from '../domain/device-tokens.js';
import { ASSERTION_AUDIENCE, ASSERTION_PURPOSE, MAX_ASSERTION_TRANSACTION_BYTES, type AssertionBinding } from '../domain/mfa-assertion-claims.js';
import { normalizeRecoveryCode } from '../domain/recovery-codes.js';
import { normalizeTotpCode } from '../domain/totp.js';
import { MAX_CREDENTIAL_JSON } from '../domain/webauthn.js';

/**
 * Request validation: collects every bad field, then throws one
 * INVALID_REQUEST naming them all. Runs before any service code, so an
 * oversized or malformed value never reaches a store or the QR encoder.
 */
export class RequestValidator {
  readonly #violations: FieldViolation[] = [];

  /** 1..128 printable characters. */
  userId(value: string, field = 'user_id'): string {
    return this.#text(field, value, { min: 1, max: 128 });
  }

  /** Printable text of at most `max` characters; empty allowed. */
  optionalText(field: string, value: string, max: number): string {
    return this.#text(field, value, { min: 0, max });
  }

  /** An id or a token: 1..max (128) printable characters. */
  id(field: string, value: string, max = 128): string {
    return this.#text(field, value, { min: 1, max });
  }

  /** A device id as issued (dev_ and 16 base64url characters). */
  deviceId(value: string): string {
    if (!DEVICE_ID_PATTERN.test(value)) this.#add('device_id', 'must be a device_id from ListRememberedDevices (dev_ and 16 characters)');
    return value;
  }

  /** A whole number from min to max. */
  integer(field: string, value: number, min: number, max: number): number {
    if (!Number.isInteger(value) || value < min || value > max) this.#add(field, `must be from ${min} to ${max}`);
    return value;
  }

  issuer(value: string): string {
    const issuer = this.#text('issuer', value, { min: 0, max: 64 });
    if (issuer.includes(':')) this.#add('issuer', 'must not contain ":" (it separates issuer and account in the otpauth label)');
    return issuer;
  }

  /** 6 ASCII digits, spaces ignored ("123 456", as apps show them); returns the digits alone. */
  totpCode(value: string, field = 'code'): string {
    if (value.trim() === '') this.#add(field, 'is required');
    const code = normalizeTotpCode(value);
    if (code === null) this.#add(field, 'must be exactly 6 digits (0-9; spaces are ignored)');
    return code ?? value;
  }

  recoveryCode(value: string, field = 'recovery_code'): string {
    if (this.#isText(field, value, { min: 1, max: 128 }) && normalizeRecoveryCode(value) === null) {
      this.#add(field, 'must be a recovery code such as ABCDE-12345');
    }
    return value;
  }

  /** A code of an enabled factor (DisableMfa, RemoveAuthenticator): 6 digits (TOTP, returned as the digits alone) or a recovery code. */
  totpOrRecoveryCode(value: string, field = 'code'): string {
    if (value.trim() === '') this.#add(field, 'is required');
    const totp = normalizeTotpCode(value);
    if (totp !== null) return totp;
    if (value.length > 128 || normalizeRecoveryCode(value) === null) {
      this.#add(field, 'must be 6 digits from an authenticator app or a recovery code such as ABCDE-12345');
    }
    return value;
  }

  /** A name shown to people (an authenticator's label): at most `max` printable characters, not only spaces; empty only when optional. */
  label(field: string, value: string, max: number, required: boolean): string {
    const label = this.#text(field, value, { min: required ? 1 : 0, max });
    if (label !== '' && label.trim() === '') this.#add(field, 'must not be only spaces');
    return label;
  }

  /** An authenticator id as issued (aut_ and 16 base64url characters). */
  authenticatorId(value: string): string {
    if (!AUTHENTICATOR_ID_PATTERN.test(value)) this.#add('authenticator_id', 'must be an authenticator_id from ListAuthenticators (aut_ and 16 characters)');
    return value;
  }

  /**
   * A repeated enum field: each value one of `allowed`'s keys (so the
   * _UNSPECIFIED zero and numbers the proto does not define are refused),
   * mapped to its value; duplicates count once.
   */
  enumSet<T>(field: string, values: readonly number[], allowed: ReadonlyMap<number, { readonly name: string; readonly value: T }>): Set<T> {
    const picked = new Set<T>();
    for (const value of values) {
      const known = allowed.get(value);
      if (known === undefined) this.#add(field, `must list only ${[...allowed.values()].map((a) => a.name).join(', ')} (${value} is not one)`);
      else picked.add(known.value);
    }
    return picked;
  }

  /** An MFA assertion's audience: 1..128 printable ASCII characters. */
  assertionAudience(field: string, value: string): string {
    if (value === '') this.#add(field, 'is required');
    else if (!ASSERTION_AUDIENCE.test(value)) this.#add(field, 'must be 1 to 128 printable ASCII characters');
    return value;
  }

  /** An MfaAssertionRequest (fields named under `field`); null when it is not set. */
  assertionRequest(field: string, value: { audience: string; purpose: string; transaction: Uint8Array } | undefined): AssertionBinding | null {
    if (value === undefined) return null;
    const audience = this.assertionAudience(`${field}.audience`, value.audience);
    if (value.purpose === '') this.#add(`${field}.purpose`, 'is required');
    else if (!ASSERTION_PURPOSE.test(value.purpose)) this.#add(`${field}.purpose`, 'must be 1 to 64 of a-z 0-9 _ . : -, such as payments.transfer');
    if (value.transaction.length > MAX_ASSERTION_TRANSACTION_BYTES) this.#add(`${field}.transaction`, `must be at most ${MAX_ASSERTION_TRANSACTION_BYTES} bytes`);
    return { audience, purpose: value.purpose, transaction: value.transaction.length === 0 ? null : Buffer.from(value.transaction) };
  }

  timestamp(field: string, value: Date | undefined): Date {
    if (value === undefined) this.#add(field, 'is required');
    else if (Number.isNaN(value.getTime())) this.#add(field, 'is not a valid time');
    return value ?? new Date(0);
  }

  /**
   * A RegistrationResponseJSON or AuthenticationResponseJSON as the browser
   * returns it: a JSON object with a string id, at most MAX_CREDENTIAL_JSON
   * bytes. The WebAuthn checks themselves are the service's.
   */
  credentialJson(field: string, value: string): string {
    if (value === '') {
      this.#add(field, 'is required');
    } else if (Buffer.byteLength(value) > MAX_CREDENTIAL_JSON) {
      this.#add(field, `must be at most ${MAX_CREDENTIAL_JSON} bytes`);
    } else {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = null;
      }
      const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
      if (typeof id !== 'string' || id === '' || id.length > 1400) this.#add(field, 'must be the JSON the browser returned (an object with an "id")');
    }
    return value;
  }

  /** A WebAuthnAssertion: its challenge_id and credential_json, each named under `field`. */
  assertion(field: string, value: { challengeId: string; credentialJson: string }): { challengeId: string; credentialJson: string } {
    return { challengeId: this.id(`${field}.challenge_id`, value.challengeId), credentialJson: this.credentialJson(`${field}.credential_json`, value.credentialJson) };
  }

  /**
   * A code or, instead, a security key's assertion (issue 23): exactly one of
   * the two when `required`, at most one otherwise; both (or, when required,
   * neither) is a violation naming both fields. `checkCode` validates a code.
   */
  codeOrAssertion(
    fields: { code: string; assertion: string },
    code: string,
    assertion: { challengeId: string; credentialJson: string } | undefined,
    required: boolean,
    checkCode: (code: string) => string,
  ): { code: string; assertion: { challengeId: string; credentialJson: string } | null } {
    const hasCode = code.trim() !== '';
    if (hasCode && assertion !== undefined) {
      this.#add(fields.code, `give either ${fields.code} or ${fields.assertion}, not both`);
      this.#add(fields.assertion, `give either ${fields.code} or ${fields.assertion}, not both`);
      return { code, assertion: null };
    }
    if (assertion !== undefined) return { code: '', assertion: this.assertion(fields.assertion, assertion) };
    if (!hasCode && required) {
      this.#add(fields.code, 'is required');
      this.#add(fields.assertion, `is required when ${fields.code} is empty`);
      return { code, assertion: null };
    }
    return { code: hasCode ? checkCode(code) : '', assertion: null };
  }

  /** Throws INVALID_REQUEST when any field was bad. */
  done(): void {
    if (this.#violations.length > 0) throw invalidRequest(this.#violations);
  }

  /** The value when it is printable text within the limits, else '' (and a violation). */
  #text(field: string, value: string, limits: { min: number; max: number }): string {
    return this.#isText(field, value, limits) ? value : '';
  }

  #isText(field: string, value: string, limits: { min: number; max: number }): boolean {
    const length = [...value].length;
    if (length < limits.min) this.#add(field, 'is required');
    else if (length > limits.max) this.#add(field, `must be at most ${limits.max} characters`);
    // \p{C}: control, format, surrogate, private-use and unassigned code points.
    else if (/\p{C}/u.test(value)) this.#add(field, 'must contain only printable characters');
    else return true;
    return false;
  }

  /** Records a bad field; a field's first problem is the one reported (one violation per field). */
  #add(field: string, description: string): void {
    if (!this.#violations.some((v) => v.field === field)) this.#violations.push({ field, description });
  }
}

/** Validates with `build` and returns its result, or throws INVALID_REQUEST. */
export function validate<T>(build: (v: RequestValidator) => T): T {
  const validator = new RequestValidator();
  const result = build(validator);
  validator.done();
  return result;
}

/** The INVALID_REQUEST error naming each bad field (its message lists them; the BadRequest says why). */
export function invalidRequest(violations: readonly FieldViolation[]): MfaError {
  const fields = violations.map((v) => v.field).join(', ');
  return new MfaError(ErrorReason.INVALID_REQUEST, `invalid request: ${fields}`, { fieldViolations: violations });
}
