// Enrolling an authenticator: choose the method. An authenticator app: read
// what to do, then scan a QR code that the server refreshes when its
// countdown ends (WatchTotpEnrollment, relayed as Server-Sent Events), type a
// code, Verify. A security key: name it, then the browser asks for the key
// (BeginWebAuthnRegistration, navigator.credentials.create,
// FinishWebAuthnRegistration).
import { api, ApiError, showError } from './api.js';
import { showRecoveryCodes } from './codes-dialog.js';
import { createCredential } from './security-key.js';

const dialog = document.getElementById('enroll-dialog');
const steps = ['enroll-choose', 'enroll-intro', 'enroll-scan', 'enroll-key', 'enroll-added'].map((id) => document.getElementById(id));
const qr = document.getElementById('qr-code');
const countdown = document.getElementById('qr-countdown');
const refreshed = document.getElementById('qr-refreshed');
const secret = document.getElementById('qr-secret');
const code = document.getElementById('enroll-code');
const existingField = document.getElementById('existing-code-field');
const existing = document.getElementById('existing-code');
const scanError = document.querySelector('#enroll-scan .error');
const failed = document.getElementById('enroll-failed');
const keyLabel = document.getElementById('key-label');
const keyExistingField = document.getElementById('key-existing-field');
const keyExisting = document.getElementById('key-existing-code');
const keyError = document.querySelector('#enroll-key .error');

let source = null; // the EventSource of the open enrollment
let enrollment = null; // the QR code shown: { enrollmentId, secret, qrCode, secondsLeft }
let ticker = null;
let adding = false;
let hooks = null;
let signedOut = false; // enabling ended the session: nothing to refresh when the dialog closes

function showStep(id) {
  for (const step of steps) step.hidden = step.id !== id;
}

function startCountdown(seconds) {
  const end = Date.now() + seconds * 1000;
  clearInterval(ticker);
  const tick = () => {
    const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    // At 0 the server sends the next QR code; nothing to do here but wait for it.
    countdown.textContent = left > 0 ? `This QR code refreshes in ${left} ${left === 1 ? 'second' : 'seconds'}` : 'Refreshing the QR code…';
  };
  tick();
  ticker = setInterval(tick, 250);
}

function stopStream() {
  source?.close();
  source = null;
  clearInterval(ticker);
}

function fail(message, reason) {
  stopStream();
  showStep(null);
  failed.hidden = false;
  showError(failed, new ApiError(0, reason, message));
}

function startStream() {
  source = new EventSource(`/api/enrollment/events${adding ? '?add=1' : ''}`);
  source.addEventListener('enrollment', (event) => {
    const first = enrollment === null;
    enrollment = JSON.parse(event.data);
    qr.src = enrollment.qrCode;
    secret.textContent = enrollment.secret.replace(/(.{4})(?=.)/g, '$1 ');
    startCountdown(enrollment.secondsLeft);
    if (first) code.focus();
    else refreshed.textContent = 'The QR code was refreshed: scan the new one.';
  });
  source.addEventListener('expired', (event) => fail(JSON.parse(event.data).message, 'EXPIRED'));
  source.addEventListener('failed', (event) => {
    const { message, reason } = JSON.parse(event.data);
    fail(message, reason);
  });
}

document.getElementById('use-app').addEventListener('click', () => {
  showStep('enroll-intro');
  document.getElementById('enroll-continue').focus();
});

document.getElementById('enroll-continue').addEventListener('click', () => {
  showStep('enroll-scan');
  startStream();
});

document.getElementById('enroll-scan').addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(scanError, null);
  try {
    const answer = await api('/api/enrollment/confirm', { enrollmentId: enrollment?.enrollmentId ?? '', code: code.value, existingCode: existing.value });
    stopStream();
    added(answer, 'The authenticator app was added.', 'a code from your app');
  } catch (failure) {
    if (!endedSession(failure)) {
      showError(scanError, failure);
      code.select();
    }
  }
});

document.getElementById('use-key').addEventListener('click', () => {
  if (adding) document.getElementById('enroll-title').textContent = 'Add a security key';
  showStep('enroll-key');
  keyLabel.select();
});

document.getElementById('enroll-key').addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(keyError, null);
  try {
    const { registrationId, optionsJson } = await api('/api/security-key/begin', { add: adding, label: keyLabel.value });
    const credentialJson = await createCredential(optionsJson);
    const answer = await api('/api/security-key/finish', { registrationId, credentialJson, existingCode: keyExisting.value });
    added(answer, 'The security key was added.', 'your security key');
  } catch (failure) {
    if (!endedSession(failure)) showError(keyError, failure);
  }
});

/** An authenticator was registered: the first one turned MFA on (recovery codes, then signed out); another one was added. */
function added(answer, addedText, signInWith) {
  if (!answer.signedOut) {
    document.getElementById('enroll-added-text').textContent = addedText;
    showStep('enroll-added');
    return document.getElementById('enroll-added-done').focus();
  }
  signedOut = true;
  dialog.close();
  showRecoveryCodes({
    recoveryCodes: answer.recoveryCodes,
    intro: 'Two-factor authentication is on.',
    next: `Turning it on signed you out everywhere: sign in again with ${signInWith}.`,
    action: 'I saved them, sign in again',
    then: () => hooks.onSignedOut(`Two-factor authentication is on. Sign in again with ${signInWith}.`),
  });
}

/** True (and on to sign in) when a failure says the session is over. */
function endedSession(failure) {
  if (!failure.signedOut) return false;
  signedOut = true;
  dialog.close();
  hooks.onSignedOut(failure.message);
  return true;
}

document.getElementById('enroll-added-done').addEventListener('click', () => dialog.close());
document.getElementById('enroll-cancel').addEventListener('click', () => dialog.close());

// However the dialog closes (Cancel, Escape, done): stop the refreshes, and cancel what is pending.
dialog.addEventListener('close', () => {
  const pending = source !== null ? enrollment : null;
  stopStream();
  enrollment = null;
  if (pending !== null) api('/api/enrollment/cancel', { enrollmentId: pending.enrollmentId }).catch(() => {});
  if (!signedOut) hooks.onClosed();
});

/**
 * Opens the dialog: the first authenticator (add false, which turns MFA on)
 * or another one (add true, which asks for a code of an existing one too);
 * with securityKey, straight to registering a security key.
 * hooks: onSignedOut(message), onClosed().
 */
export function openEnrollment(add, callbacks, securityKey = false) {
  adding = add;
  hooks = callbacks;
  signedOut = false;
  document.getElementById('enroll-title').textContent = !add ? 'Enable Two-Factor Authentication' : securityKey ? 'Add a security key' : 'Add an authenticator app';
  existingField.hidden = keyExistingField.hidden = !add;
  existing.required = keyExisting.required = add;
  for (const input of [code, existing, keyExisting]) input.value = '';
  keyLabel.value = 'Security key';
  qr.removeAttribute('src');
  countdown.textContent = '';
  refreshed.textContent = '';
  showError(scanError, null);
  showError(keyError, null);
  failed.hidden = true;
  dialog.showModal();
  if (securityKey) {
    showStep('enroll-key');
    return keyLabel.select();
  }
  showStep('enroll-choose');
  document.getElementById('use-app').focus();
}
