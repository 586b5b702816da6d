// Enrolling an authenticator app: choose the method, read what to do, then
// scan a QR code that the server refreshes when its countdown ends
// (WatchTotpEnrollment, relayed as Server-Sent Events), type a code, Verify.
import { api, ApiError, showError } from './api.js';
import { showRecoveryCodes } from './codes-dialog.js';

const dialog = document.getElementById('enroll-dialog');
const steps = ['enroll-choose', 'enroll-intro', 'enroll-scan', 'enroll-added'].map((id) => document.getElementById(id));
const qr = document.getElementById('qr-code');
const countdown = document.getElementById('qr-countdown');
const refreshed = document.getElementById('qr-refreshed');
const secret = document.getElementById('qr-secret');
const code = document.getElementById('enroll-code');
const existingField = document.getElementById('existing-code-field');
const existing = document.getElementById('existing-code');
const scanError = document.querySelector('#enroll-scan .error');
const failed = document.getElementById('enroll-failed');

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
    if (!answer.signedOut) {
      showStep('enroll-added');
      return document.getElementById('enroll-added-done').focus();
    }
    signedOut = true;
    dialog.close();
    showRecoveryCodes({
      recoveryCodes: answer.recoveryCodes,
      intro: 'Two-factor authentication is on.',
      next: 'Turning it on signed you out everywhere: sign in again with a code from your app.',
      action: 'I saved them, sign in again',
      then: () => hooks.onSignedOut('Two-factor authentication is on. Sign in again with a code from your authenticator app.'),
    });
  } catch (failure) {
    if (failure.signedOut) {
      signedOut = true;
      dialog.close();
      return hooks.onSignedOut(failure.message);
    }
    showError(scanError, failure);
    code.select();
  }
});

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
 * or another one (add true, which asks for a code of an existing one too).
 * hooks: onSignedOut(message), onClosed().
 */
export function openEnrollment(add, callbacks) {
  adding = add;
  hooks = callbacks;
  signedOut = false;
  document.getElementById('enroll-title').textContent = add ? 'Add an authenticator app' : 'Enable Two-Factor Authentication';
  existingField.hidden = !add;
  existing.required = add;
  for (const input of [code, existing]) input.value = '';
  qr.removeAttribute('src');
  countdown.textContent = '';
  refreshed.textContent = '';
  showError(scanError, null);
  failed.hidden = true;
  showStep('enroll-choose');
  dialog.showModal();
  document.getElementById('use-app').focus();
}
