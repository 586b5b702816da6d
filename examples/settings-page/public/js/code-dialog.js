// "Prove it's you": asks for a code from the app or a recovery code (or, for
// a user who has one, a security key's answer) before a change, and runs the
// change with it. Errors stay in the dialog.
import { api, showError } from './api.js';
import { getAssertion } from './security-key.js';

const dialog = document.getElementById('code-dialog');
const form = document.getElementById('code-dialog-form');
const input = document.getElementById('code-dialog-input');
const error = form.querySelector('.error');
let pending = null;

/** Runs the change with `proof` ({ code } or { assertion }); a failure stays in the dialog. */
async function run(proof) {
  showError(error, null);
  try {
    await pending.submit(proof);
    dialog.close();
  } catch (failure) {
    if (failure.signedOut) {
      dialog.close();
      return pending.onSignedOut(failure);
    }
    showError(error, failure);
    if ('code' in proof) input.select();
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  run({ code: input.value });
});

document.getElementById('code-dialog-use-key').addEventListener('click', async () => {
  showError(error, null);
  let assertion;
  try {
    const { challengeId, optionsJson } = await api('/api/security-key/challenge', {});
    assertion = { challengeId, credentialJson: await getAssertion(optionsJson) };
  } catch (failure) {
    if (failure.signedOut) {
      dialog.close();
      return pending.onSignedOut(failure);
    }
    return showError(error, failure);
  }
  await run({ assertion });
});
document.getElementById('code-dialog-cancel').addEventListener('click', () => dialog.close());

/**
 * Opens the dialog: `title`, `text` and the `action` button's words;
 * `submit(proof)` makes the change with { code } or { assertion } (a
 * rejection is shown); `onSignedOut(error)` when the session turned out to be
 * over; `securityKey` offers "Use your security key" too.
 */
export function askForCode({ title, text, action, submit, onSignedOut, securityKey = false }) {
  pending = { submit, onSignedOut };
  document.getElementById('code-dialog-key').hidden = !securityKey;
  document.getElementById('code-dialog-title').textContent = title;
  document.getElementById('code-dialog-text').textContent = text;
  document.getElementById('code-dialog-submit').textContent = action;
  showError(error, null);
  input.value = '';
  dialog.showModal();
  input.focus();
}
