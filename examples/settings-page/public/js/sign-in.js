// The password step (demo accounts), then the code step or the settings.
import { api, showError } from './api.js';

export function initSignIn(app) {
  const form = document.getElementById('sign-in-form');
  const user = document.getElementById('sign-in-user');
  const password = document.getElementById('sign-in-password');
  const error = form.querySelector('.error');

  api('/api/demo-users').then(({ users, password: demoPassword }) => {
    document.getElementById('demo-users').textContent = users.join(', ');
    document.getElementById('demo-password').textContent = demoPassword;
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(error, null);
    try {
      const { next } = await api('/api/sign-in', { userId: user.value, password: password.value });
      password.value = '';
      await app.goTo(next);
    } catch (failure) {
      showError(error, failure);
      password.select();
    }
  });

  return {
    enter() {
      showError(error, null);
      password.value = '';
      user.focus();
    },
  };
}
