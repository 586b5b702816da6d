// Sign-in & Security: two-factor authentication on or off, authenticators,
// recovery codes and remembered devices, as the service reports them.
import { api } from './api.js';
import { followActivity, stopActivity } from './activity.js';
import { askForCode } from './code-dialog.js';
import { showRecoveryCodes } from './codes-dialog.js';
import { openEnrollment } from './enrollment.js';

const $ = (id) => document.getElementById(id);
const date = (value) => (value ? new Date(value).toLocaleDateString(undefined, { dateStyle: 'medium' }) : '');

function button(text, label, onClick, className = 'secondary') {
  const element = Object.assign(document.createElement('button'), { type: 'button', textContent: text, className });
  element.setAttribute('aria-label', label);
  element.addEventListener('click', onClick);
  return element;
}

function row(what, when, ...buttons) {
  const li = document.createElement('li');
  const text = Object.assign(document.createElement('div'), { className: 'what' });
  text.append(Object.assign(document.createElement('span'), { textContent: what }));
  if (when) text.append(Object.assign(document.createElement('span'), { className: 'when', textContent: when }));
  li.append(text, ...buttons);
  return li;
}

export function initSettings(app) {
  // What a change that logs the user out (or a revoked session) leads to.
  const signedOut = (message) => app.goTo('sign-in', message);
  const onSignedOut = (error) => signedOut(error.message);
  let hasSecurityKey = false; // "Use your security key" in "Prove it's you"

  /** Reads the account and shows it; false when the session turned out to be over (then on to sign in). */
  async function refresh() {
    let account;
    try {
      account = await api('/api/account');
    } catch (failure) {
      if (!failure.signedOut) throw failure;
      await signedOut(failure.message);
      return false;
    }
    $('account-user').textContent = account.userId;
    $('mfa-off').hidden = account.mfaEnabled;
    $('mfa-on').hidden = !account.mfaEnabled;
    $('authenticators-card').hidden = !account.mfaEnabled;
    $('recovery-card').hidden = !account.mfaEnabled;
    $('mfa-since').textContent = account.mfaEnabled ? `On since ${date(account.enabledAt)}. You sign in with your password, then with one of your authenticators below.` : '';
    $('mfa-suspended').hidden = !account.totpSuspended;
    $('recovery-left').textContent = `${account.recoveryCodesRemaining} recovery codes left.`;
    hasSecurityKey = account.authenticators.some((a) => a.kind === 'security-key');
    $('authenticator-list').replaceChildren(...account.authenticators.map(authenticatorRow));
    $('device-list').replaceChildren(...(account.devices.length > 0 ? account.devices.map(deviceRow) : [row('No remembered devices.', '')]));
    return true;
  }

  /** A failed change outside a dialog: said at the top of the page (or, when the session is over, at sign-in). */
  function report(failure) {
    if (failure.signedOut) return signedOut(failure.message);
    const notice = $('notice');
    notice.textContent = failure.message;
    notice.title = `Reason: ${failure.reason}`;
    notice.hidden = false;
  }

  function authenticatorRow(authenticator) {
    const kind = authenticator.kind === 'security-key' ? 'Security key' : 'Authenticator app';
    const li = row(authenticator.label, `${kind}, added ${date(authenticator.createdAt)}${authenticator.lastUsedAt ? `, last used ${date(authenticator.lastUsedAt)}` : ''}`);
    li.append(
      button('Rename', `Rename ${authenticator.label}`, () => rename(li, authenticator)),
      button('Remove', `Remove ${authenticator.label}`, () =>
        askForCode({
          title: `Remove ${authenticator.label}`,
          text: 'Removing an authenticator signs you out everywhere. Enter a code from any of your authenticators (this one too), or a recovery code.',
          action: 'Remove',
          securityKey: hasSecurityKey,
          submit: async (proof) => {
            await api('/api/authenticators/remove', { authenticatorId: authenticator.id, ...proof });
            await signedOut(`${authenticator.label} was removed, and you were signed out everywhere. Sign in again.`);
          },
          onSignedOut,
        }), 'danger'),
    );
    return li;
  }

  function rename(li, authenticator) {
    const form = document.createElement('form');
    const label = Object.assign(document.createElement('label'), { htmlFor: `rename-${authenticator.id}`, textContent: `New name for ${authenticator.label}` });
    const input = Object.assign(document.createElement('input'), { id: label.htmlFor, maxLength: 64, required: true, value: authenticator.label });
    form.append(label, input);
    form.append(Object.assign(document.createElement('button'), { type: 'submit', textContent: 'Save' }), button('Cancel', 'Cancel renaming', () => refresh()));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      await api('/api/authenticators/rename', { authenticatorId: authenticator.id, label: input.value }).then(() => refresh(), report);
    });
    li.replaceChildren(form);
    input.select();
  }

  function deviceRow(device) {
    return row(device.label, `Remembered ${date(device.createdAt)}, until ${date(device.expiresAt)}`, button('Forget', `Forget ${device.label}`, async () => {
      await api('/api/devices/forget', { deviceId: device.id }).catch(report);
      await refresh();
    }));
  }

  $('sign-out').addEventListener('click', async () => {
    await api('/api/sign-out', {});
    await app.goTo('sign-in', 'You signed out.');
  });

  const enrollmentHooks = { onSignedOut: signedOut, onClosed: () => refresh() };
  $('enable-mfa').addEventListener('click', () => openEnrollment(false, enrollmentHooks));
  $('add-authenticator-app').addEventListener('click', () => openEnrollment(true, enrollmentHooks));
  $('add-security-key').addEventListener('click', () => openEnrollment(true, enrollmentHooks, true));

  $('mfa-switch').addEventListener('click', () =>
    askForCode({
      title: 'Turn off two-factor authentication',
      text: 'Turning it off signs you out everywhere and forgets your remembered devices. Enter a code from your authenticator app, or a recovery code.',
      action: 'Turn off',
      securityKey: hasSecurityKey,
      submit: async (proof) => {
        await api('/api/mfa/disable', proof);
        await signedOut('Two-factor authentication is off, and you were signed out everywhere. Sign in again.');
      },
      onSignedOut,
    }),
  );

  $('new-recovery-codes').addEventListener('click', () =>
    askForCode({
      title: 'Get new recovery codes',
      text: 'Your old recovery codes stop working. Enter a code from your authenticator app.',
      action: 'Get new codes',
      securityKey: hasSecurityKey,
      submit: async (proof) => {
        const { recoveryCodes } = await api('/api/recovery-codes', proof);
        showRecoveryCodes({ recoveryCodes, intro: 'Your new recovery codes are ready; the old ones no longer work.', next: '', action: 'Done', then: () => refresh() });
      },
      onSignedOut,
    }),
  );

  return {
    async load() {
      if (!(await refresh())) return false;
      await followActivity();
      return true;
    },
    enter() {
      $('settings-title').focus({ preventScroll: true });
    },
    leave: stopActivity,
  };
}
