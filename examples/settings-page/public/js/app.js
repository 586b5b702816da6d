// The page: three views (sign in, the code step, Sign-in & Security) and
// the dialogs of the settings. No framework: each module wires its part of
// index.html and calls goTo() to move between views.
import { api } from './api.js';
import { initCodeStep } from './code-step.js';
import { initSettings } from './settings.js';
import { initSignIn } from './sign-in.js';

const views = {};
const notice = document.getElementById('notice');
let current = null;

/** Shows `name` ('sign-in', 'code' or 'settings'), with an optional notice for the person. */
async function goTo(name, message = '') {
  if (current !== null && current !== name) views[current].leave?.();
  // Load first, then show: the view never shows what it showed last time.
  if ((await views[name].load?.()) === false) return;
  notice.textContent = message;
  notice.hidden = message === '';
  notice.removeAttribute('title');
  for (const [view, { element }] of Object.entries(views)) element.hidden = view !== name;
  current = name;
  views[name].enter();
}

const app = { goTo };
views['sign-in'] = { element: document.getElementById('view-sign-in'), ...initSignIn(app) };
views['code'] = { element: document.getElementById('view-code'), ...initCodeStep(app) };
views['settings'] = { element: document.getElementById('view-settings'), ...initSettings(app) };

// A reload keeps the session: signed in goes straight to the settings.
api('/api/account').then(
  () => goTo('settings'),
  () => goTo('sign-in'),
);
