import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { buildDist } from '../support/build-dist.js';
import { ensureChromium, launchChromium } from '../support/chromium.js';
import { eventually } from '../support/eventually.js';
import { seriousViolations } from '../support/accessibility.js';
import { appCode, Person, startDemo, type Demo } from '../support/settings-page.js';

/**
 * Issue 24: the settings page, through Chromium, as a person uses it. One
 * Chromium and one demo (with its own service on the embedded stores) for
 * the file; each flow has its own demo user and browser context. A QR code
 * lasts 5 s here, so that the test sees it refresh; a lockout lasts 1 s.
 * Codes: Confirm spends the current period's code, and the next period's
 * code is accepted at once, so no flow waits for a period to pass.
 */
describe('The settings page (examples/settings-page) in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let demo: Demo;

  before(async function () {
    this.timeout(600_000); // installing Chromium, the first time on a fresh machine
    await ensureChromium((line) => console.log(`      ${line}`));
    [browser, demo] = await Promise.all([
      launchChromium(),
      // The demo starts dist/main.js, as `npm run demo` does after its build.
      buildDist().then(() => startDemo({ MFA_ENROLLMENT_TTL_SECONDS: '5', MFA_LOCKOUT_SECONDS: '1', MFA_MAX_FAILED_ATTEMPTS: '3' })),
    ]);
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('enables MFA with a QR code that refreshes itself, signs the user out, then signs in with a code and remembers the device', async () => {
    const alice = await Person.open(browser, demo, 'alice');
    try {
      await alice.signIn();
      await alice.heading('Sign-in & Security').waitFor();
      expect(await seriousViolations(alice.page), 'the settings with MFA off').to.deep.equal([]);
      await alice.startEnrollment();
      // The code box has the focus at once: scan, then type.
      expect(await alice.page.evaluate(() => document.activeElement?.id)).to.equal('enroll-code');
      expect(await seriousViolations(alice.page), 'the QR code step').to.deep.equal([]);
      const first = await alice.scanQrCode();

      // The countdown runs down; when it ends, the server's stream brings a new QR code, and the countdown starts again.
      await alice.page.getByRole('timer').filter({ hasText: /refreshes in (1|2) seconds?|Refreshing/ }).waitFor();
      const before = await alice.countdown();
      await alice.waitForNewQrCode();
      expect(await alice.countdown(), 'the countdown of the new QR code').to.be.greaterThan(Math.max(before, 2));
      const secret = await alice.scanQrCode();
      expect(secret).to.not.equal(first);

      await alice.verifyEnrollment(appCode(secret));
      const recoveryCodes = await alice.recoveryCodes();
      expect(recoveryCodes).to.have.length(10);
      const [download] = await Promise.all([alice.page.waitForEvent('download'), alice.page.getByRole('button', { name: 'Download' }).click()]);
      expect(download.suggestedFilename()).to.equal('recovery-codes.txt');
      expect(await readFile((await download.path())!, 'utf8')).to.equal(`${recoveryCodes.join('\n')}\n`);
      expect(await seriousViolations(alice.page), 'the recovery codes').to.deep.equal([]);
      await alice.page.getByRole('button', { name: 'I saved them, sign in again' }).click();
      await alice.heading('Sign in').waitFor();
      expect(await alice.notice().textContent()).to.match(/Two-factor authentication is on\. Sign in again/);
      // Signed out for real: the session is over on the server, so a reload lands on the sign-in page.
      await alice.page.reload();
      await alice.heading('Sign in').waitFor();

      await alice.signIn();
      expect(await seriousViolations(alice.page), 'the code step').to.deep.equal([]);
      await alice.enterCode(appCode(secret, 1), true); // Confirm spent this period's code; the next one works at once
      await alice.heading('Sign-in & Security').waitFor();
      const devices = alice.page.getByRole('region', { name: 'Remembered devices' }).getByRole('listitem');
      expect(await devices.allTextContents()).to.have.length(1);
      expect(await devices.first().textContent()).to.match(/^Chromium on Linux/);
      const activity = alice.page.getByRole('region', { name: 'Recent security activity' });
      await activity.getByText('Two-factor authentication was turned on').waitFor();
      expect(await seriousViolations(alice.page), 'settings with MFA on').to.deep.equal([]);

      // A remembered device skips the code step.
      await alice.signOut();
      await alice.signIn();
      await alice.heading('Sign-in & Security').waitFor();
      expect(await alice.heading('Two-factor authentication').isVisible(), 'the code step').to.equal(false);

      // Rename the authenticator; forget the device (which shows up live in the activity).
      const authenticators = alice.page.getByRole('region', { name: 'Authenticators' });
      await authenticators.getByRole('button', { name: 'Rename Authenticator app' }).click();
      await authenticators.getByLabel('New name for Authenticator app').fill('Work phone');
      await authenticators.getByRole('button', { name: 'Save' }).click();
      await authenticators.getByText('Work phone').waitFor();
      await alice.page.getByRole('button', { name: 'Forget Chromium on Linux' }).click();
      await alice.page.getByText('No remembered devices.').waitFor();
      await activity.getByText('A remembered device was forgotten').waitFor();
    } finally {
      await alice.close();
    }
  });

  it('tells a reused code, a wrong code and the lockout with its time left in words, the reason in a tooltip', async () => {
    const bob = await Person.open(browser, demo, 'bob');
    try {
      const { secret, spentCode } = await bob.enableTwoFactor();
      await bob.signIn();
      await bob.enterCode(spentCode); // the code that turned MFA on (its period may have ended since: still in the window)
      expect(await bob.alert().textContent()).to.equal('That code was already used. Wait for the next code in your authenticator app.');
      expect(await bob.alert().getAttribute('title')).to.equal('Reason: CODE_REUSED');
      // The code box keeps the focus (its text selected), so the next try is typed at once.
      expect(await bob.page.evaluate(() => document.activeElement?.id)).to.equal('code-input');

      const wrong = appCode(secret, 1) === '000000' ? '111111' : '000000';
      await bob.enterCode(wrong);
      await bob.alert().filter({ hasText: 'That code is not right' }).waitFor();
      expect(await bob.alert().getAttribute('title')).to.equal('Reason: INVALID_CODE');

      await bob.enterCode(wrong); // the third failure in a row (MFA_MAX_FAILED_ATTEMPTS=3)
      await bob.alert().filter({ hasText: 'Too many wrong codes' }).waitFor();
      expect(await bob.alert().textContent()).to.equal('Too many wrong codes. Try again in 1 second.');
      expect(await bob.alert().getAttribute('title')).to.equal('Reason: LOCKED_OUT');
      expect(await seriousViolations(bob.page), 'the code step with an error').to.deep.equal([]);

      // Once the lockout is over (1 s), the right code signs in.
      await bob.page.waitForTimeout(1100);
      await bob.enterCode(appCode(secret, 1));
      await bob.heading('Sign-in & Security').waitFor();
    } finally {
      await bob.close();
    }
  });

  it('signs in with recovery codes, adds and removes an authenticator app, then turns MFA off with a code from the app, which signs the user out', async () => {
    const carol = await Person.open(browser, demo, 'carol');
    try {
      const { secret, recoveryCodes } = await carol.enableTwoFactor();
      await carol.signIn();
      await carol.enterCode(recoveryCodes[0]!);
      await carol.heading('Sign-in & Security').waitFor();
      await carol.page.getByText('9 recovery codes left.').waitFor();

      // A second app: its own code, and a recovery code as the proof of an existing factor.
      const second = await carol.addAuthenticatorApp(recoveryCodes[1]!);
      const authenticators = carol.page.getByRole('region', { name: 'Authenticators' });
      await authenticators.getByRole('listitem').nth(1).waitFor();
      expect(await authenticators.getByRole('listitem').count()).to.equal(2);
      // Removing one (with the next code of that app: its first one was spent) signs the user out everywhere.
      await authenticators.getByRole('button', { name: 'Remove Authenticator app' }).nth(1).click();
      const remove = carol.page.getByRole('dialog', { name: 'Remove Authenticator app' });
      await remove.getByRole('textbox').fill(appCode(second, 1));
      await remove.getByRole('button', { name: 'Remove' }).click();
      await carol.heading('Sign in').waitFor();
      expect(await carol.notice().textContent()).to.match(/was removed, and you were signed out everywhere/);

      await carol.signIn();
      await carol.enterCode(recoveryCodes[2]!);
      await carol.heading('Sign-in & Security').waitFor();
      expect(await authenticators.getByRole('listitem').count()).to.equal(1);
      await carol.turnOff(appCode(secret, 1)); // the first app's period after the one Confirm spent
      await carol.heading('Sign in').waitFor();
      expect(await carol.notice().textContent()).to.equal('Two-factor authentication is off, and you were signed out everywhere. Sign in again.');
      await carol.signIn(); // no code step any more
      await carol.page.getByRole('button', { name: 'Enable Two-Factor Authentication' }).waitFor();
    } finally {
      await carol.close();
    }
  });

  it('enables MFA with a security key (Chromium\'s virtual authenticator), signs in with it without a code, lists it as a security key, adds a second key, and turns MFA off with a key', async () => {
    // axe-core on the new views, as the steps reach them: registering a key (first, and added), the code step and "Prove it's you" with a key.
    const newViews = ['security-key', 'code-step-security-key', 'add-security-key', 'turn-off-security-key'];
    const violations: Record<string, string[]> = {};
    const erin: Person = await Person.open(browser, demo, 'erin', async (step) => {
      if (newViews.includes(step)) violations[step] ??= await seriousViolations(erin.page);
    });
    try {
      const unplug = await erin.plugInSecurityKey();
      const recoveryCodes = await erin.enableWithSecurityKey();
      expect(recoveryCodes).to.have.length(10);
      expect(await erin.notice().textContent()).to.equal('Two-factor authentication is on. Sign in again with your security key.');

      await erin.signIn();
      await erin.heading('Two-factor authentication').waitFor();
      expect(await erin.page.evaluate(() => document.activeElement?.id), 'the focus of a user with only a key').to.equal('use-security-key');
      await erin.useSecurityKey(); // nothing typed: the key answers
      await erin.heading('Sign-in & Security').waitFor();
      const authenticators = erin.page.getByRole('region', { name: 'Authenticators' });
      expect(await authenticators.getByRole('listitem').count()).to.equal(1);
      expect(await authenticators.getByText(/^Security key, added /).count(), 'the kind of the one authenticator').to.equal(1);

      // The same key again: the browser refuses it (the service listed it in excludeCredentials); nothing is spent.
      await erin.addSecurityKey(recoveryCodes[0]!, 'Backup key');
      const dialog = erin.page.getByRole('dialog', { name: 'Add a security key' });
      await dialog.getByRole('alert').filter({ hasText: 'already registered' }).waitFor();
      expect(await dialog.getByRole('alert').getAttribute('title')).to.equal('Reason: InvalidStateError');
      // Another key: added, with the same recovery code as the proof.
      await unplug();
      await erin.plugInSecurityKey();
      await dialog.getByRole('button', { name: 'Register the security key' }).click();
      await dialog.getByText('The security key was added.').waitFor();
      await dialog.getByRole('button', { name: 'Done' }).click();
      await authenticators.getByText('Backup key').waitFor();
      expect(await authenticators.getByText(/^Security key, added /).count()).to.equal(2);
      await erin.page.getByText('9 recovery codes left.').waitFor();

      // Turning MFA off, proven with the (second) key's answer instead of a code, signs the user out.
      await erin.turnOffWithSecurityKey();
      await erin.heading('Sign in').waitFor();
      expect(await erin.notice().textContent()).to.equal('Two-factor authentication is off, and you were signed out everywhere. Sign in again.');
      expect(violations, 'axe-core: serious or critical violations by view').to.deep.equal(Object.fromEntries(newViews.map((view) => [view, []])));
    } finally {
      await erin.close();
    }
  });

  it('works with the keyboard alone, and closing the QR code (Escape) ends the enrollment stream on the service', async () => {
    const dave = await Person.open(browser, demo, 'dave');
    const focused = () => dave.page.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.id);
    try {
      await dave.heading('Sign in').waitFor();
      expect(await seriousViolations(dave.page), 'the sign-in page').to.deep.equal([]);
      expect(await focused()).to.equal('sign-in-user');
      await dave.page.keyboard.type('dave');
      await dave.page.keyboard.press('Tab');
      await dave.page.keyboard.type('demo');
      await dave.page.keyboard.press('Enter');
      await dave.heading('Sign-in & Security').waitFor();
      for (let tabs = 0; tabs < 5 && (await focused()) !== 'Enable Two-Factor Authentication'; tabs += 1) await dave.page.keyboard.press('Tab');
      expect(await focused()).to.equal('Enable Two-Factor Authentication');
      await dave.page.keyboard.press('Enter');
      expect(await focused()).to.equal('Use an Authenticator App');
      await dave.page.keyboard.press('Enter');
      expect(await focused()).to.equal('Continue');
      await dave.page.keyboard.press('Enter');
      await dave.page.getByRole('timer').filter({ hasText: /refreshes in/ }).waitFor();
      expect(await focused()).to.equal('enroll-code');

      await dave.page.keyboard.press('Escape');
      await dave.page.getByRole('dialog').waitFor({ state: 'hidden' });
      expect(await focused(), 'the focus goes back to the button that opened it').to.equal('Enable Two-Factor Authentication');
      // The browser closed its event stream; the backend cancelled the gRPC stream (the service logs how each call ended).
      await eventually(async () => {
        const lines = (await demo.serviceLog()).split('\n').filter((line) => line.includes('"method":"WatchTotpEnrollment"') && line.includes('"caller":"settings-page"'));
        expect(lines.some((line) => line.includes('"reason":"CALL_ENDED"')), 'a WatchTotpEnrollment call that ended CANCELLED').to.equal(true);
      }, 5000);
    } finally {
      await dave.close();
    }
  });
});
