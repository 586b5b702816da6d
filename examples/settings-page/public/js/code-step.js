// The second step of signing in: a code from the app or a recovery code,
// or, for a user who has one, "Use your security key"; and "Remember this device".
import { api, showError } from './api.js';
import { getAssertion } from './security-key.js';

export function initCodeStep(app) {
  const form = document.getElementById('code-form');
  const code = document.getElementById('code-input');
  const remember = document.getElementById('remember-device');
  const error = form.querySelector('.error');

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, null);
    try {
      await api('/api/sign-in/code', { code: code.value, rememberDevice: remember.checked });
      await app.goTo('settings');
    } catch (failure) {
      if (failure.signedOut) return app.goTo('sign-in', failure.message);
      showError(error, failure);
      code.select();
    }
  });

  const keyMethod = document.getElementById('code-step-methods');
  const keyButton = document.getElementById('use-security-key');
  let methods = { securityKey: false, app: true };
  keyButton.addEventListener('click', async () => {
    showError(error, null);
    try {
      const { challengeId, optionsJson } = await api('/api/sign-in/security-key/begin', {});
      const credentialJson = await getAssertion(optionsJson);
      await api('/api/sign-in/security-key', { challengeId, credentialJson, rememberDevice: remember.checked });
      await app.goTo('settings');
    } catch (failure) {
      if (failure.signedOut) return app.goTo('sign-in', failure.message);
      showError(error, failure);
    }
  });

  document.getElementById('code-cancel').addEventListener('click', async () => {
    await api('/api/sign-out', {});
    await app.goTo('sign-in');
  });

  return {
    async load() {
      methods = await api('/api/sign-in/methods').catch(() => ({ securityKey: false, app: true }));
      keyMethod.hidden = !methods.securityKey;
    },
    enter() {
      showError(error, null);
      code.value = '';
      remember.checked = false;
      // A user with only security keys starts at the key's button (a recovery code can still be typed).
      (methods.securityKey && !methods.app ? keyButton : code).focus();
    },
  };
}
