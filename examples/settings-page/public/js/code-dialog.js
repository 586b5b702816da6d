// "Prove it's you": asks for a code from the app or a recovery code before
// a change, and runs the change with it. Errors stay in the dialog.
import { showError } from './api.js';

const dialog = document.getElementById('code-dialog');
const form = document.getElementById('code-dialog-form');
const input = document.getElementById('code-dialog-input');
const error = form.querySelector('.error');
let pending = null;

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  showError(error, null);
  try {
    await pending.submit(input.value);
    dialog.close();
  } catch (failure) {
    if (failure.signedOut) {
      dialog.close();
      return pending.onSignedOut(failure);
    }
    showError(error, failure);
    input.select();
  }
});
document.getElementById('code-dialog-cancel').addEventListener('click', () => dialog.close());

/**
 * Opens the dialog: `title`, `text` and the `action` button's words;
 * `submit(code)` makes the change (a rejection is shown); `onSignedOut(error)`
 * when the session turned out to be over.
 */
export function askForCode({ title, text, action, submit, onSignedOut }) {
  pending = { submit, onSignedOut };
  document.getElementById('code-dialog-title').textContent = title;
  document.getElementById('code-dialog-text').textContent = text;
  document.getElementById('code-dialog-submit').textContent = action;
  showError(error, null);
  input.value = '';
  dialog.showModal();
  input.focus();
}
