// The browser's side of a security key (WebAuthn): the service's options
// (JSON) in, the key's answer (JSON) out, both passed through the backend
// unchanged. Native WebAuthn Level 3 (parseCreationOptionsFromJSON,
// parseRequestOptionsFromJSON, toJSON), so nothing to bundle or serve.
import { ApiError } from './api.js';

/** True when this browser can use security keys with JSON options. */
export function securityKeysSupported() {
  return typeof PublicKeyCredential !== 'undefined' && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function';
}

/** What the browser's refusal means to a person (the DOMException's name is kept for the tooltip). */
function explain(error) {
  if (!(error instanceof DOMException)) return error;
  const words = {
    NotAllowedError: 'The security key did not answer in time, or you cancelled. Try again.',
    InvalidStateError: 'This security key is already registered to your account. Use another key.',
    SecurityError: 'This page cannot use security keys at this address.',
  };
  return new ApiError(0, error.name, words[error.name] ?? 'The browser could not use the security key. Try again.');
}

function unsupported() {
  return new ApiError(0, 'WEBAUTHN_UNSUPPORTED', 'This browser cannot use security keys. Use a recent Chrome, Edge, Firefox or Safari.');
}

/** Registers a key: the options_json of BeginWebAuthnRegistration → the RegistrationResponseJSON, as text. */
export async function createCredential(optionsJson) {
  if (!securityKeysSupported()) throw unsupported();
  try {
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(optionsJson));
    return JSON.stringify((await navigator.credentials.create({ publicKey })).toJSON());
  } catch (error) {
    throw explain(error);
  }
}

/** Asks a key for an assertion: the options_json of BeginWebAuthnAuthentication → the AuthenticationResponseJSON, as text. */
export async function getAssertion(optionsJson) {
  if (!securityKeysSupported()) throw unsupported();
  try {
    const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(optionsJson));
    return JSON.stringify((await navigator.credentials.get({ publicKey })).toJSON());
  } catch (error) {
    throw explain(error);
  }
}
