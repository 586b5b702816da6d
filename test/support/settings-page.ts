/**
 * The settings page example (examples/settings-page) as a person uses it, for
 * the browser tests and for `npm run demo:screenshots`: the demo started as
 * `npm run demo` starts it, and a Person who clicks and types through
 * Chromium by what is on screen (labels, button texts, the QR image), reading
 * the TOTP secret from the QR code as a phone would.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startChild, type Child } from '../../dev/child-process.js';
import { freePort } from '../../dev/free-port.js';
import { generateTotp } from '../../src/domain/totp.js';
import { decodePng } from './qr-decode.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A running demo: its page's address. */
export interface Demo {
  readonly url: string;
  readonly output: () => string;
  /** The log of the service the demo started (the file its first lines name). */
  serviceLog(): Promise<string>;
  stop(): Promise<number | null>;
}

/** Starts examples/settings-page/main.ts (dist/ must be built: it starts dist/main.js), with `env` for it and its service. */
export async function startDemo(env: Record<string, string>): Promise<Demo> {
  const port = await freePort();
  const child: Child = startChild(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'settings-page', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: '', MONGO_URL: '', MFA_ADDR: '', ...env, DEMO_PORT: String(port) },
  });
  await child.waitUntil('the settings page demo', () => child.output().includes('the settings page is on'), 60_000);
  const serviceLog = async () => {
    const file = /\(its log: (.+)\)/.exec(child.output())?.[1];
    if (file === undefined) throw new Error(`the demo did not name its service's log:\n${child.output()}`);
    return readFile(file, 'utf8');
  };
  return { url: `http://localhost:${port}/`, output: child.output, serviceLog, stop: () => child.stop() };
}

/** The TOTP code an authenticator app shows for `secret`, `periodsAhead` periods from now (one ahead is accepted at once). */
export function appCode(secret: string, periodsAhead = 0): string {
  return generateTotp(secret, new Date(Date.now() + periodsAhead * 30_000));
}

/** Called at each step worth a screenshot (the screenshots script saves them; tests pass nothing). */
export type Snap = (name: string) => Promise<void>;

/** One person at one browser (a context of its own: own cookies, own remembered device). */
export class Person {
  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
    readonly userId: string,
    private readonly snap: Snap,
  ) {}

  static async open(browser: Browser, demo: Demo, userId: string, snap: Snap = async () => {}): Promise<Person> {
    const context = await browser.newContext({ viewport: { width: 900, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    const page = await context.newPage();
    await page.goto(demo.url);
    return new Person(page, context, userId, snap);
  }

  close(): Promise<void> {
    return this.context.close();
  }

  heading(name: string) {
    return this.page.getByRole('heading', { level: 1, name });
  }

  /** The error shown to the person now (the one visible alert). */
  alert() {
    return this.page.getByRole('alert');
  }

  /** The notice at the top of the page (signed out, and why). */
  notice() {
    return this.page.getByRole('status').first();
  }

  async signIn(password = 'demo'): Promise<void> {
    await this.heading('Sign in').waitFor();
    await this.page.getByLabel('User name').fill(this.userId);
    await this.page.getByLabel('Password').fill(password);
    await this.snap('sign-in');
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** At the code step: types `code`, ticks "Remember this device" if asked, and clicks Verify. */
  async enterCode(code: string, rememberDevice = false): Promise<void> {
    await this.heading('Two-factor authentication').waitFor();
    await this.page.getByRole('textbox', { name: 'Code from your authenticator app, or a recovery code' }).fill(code);
    if (rememberDevice) await this.page.getByLabel('Remember this device').check();
    await this.snap('code-step');
    await this.page.getByRole('button', { name: 'Verify' }).click();
  }

  async signOut(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await this.heading('Sign in').waitFor();
  }

  /** "Enable Two-Factor Authentication" → "Use an Authenticator App" → "Continue", until the QR code is on screen. */
  async startEnrollment(): Promise<void> {
    await this.heading('Sign-in & Security').waitFor();
    await this.snap('settings-off');
    await this.page.getByRole('button', { name: 'Enable Two-Factor Authentication' }).click();
    await this.snap('choose-method');
    await this.page.getByRole('button', { name: 'Use an Authenticator App' }).click();
    await this.snap('before-the-qr-code');
    await this.page.getByRole('button', { name: 'Continue' }).click();
    await this.page.getByRole('timer').filter({ hasText: /refreshes in/ }).waitFor();
    await this.snap('qr-code');
  }

  qrCode() {
    return this.page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
  }

  /** The secret of the QR code on screen, decoded from its pixels as a phone camera would. */
  async scanQrCode(): Promise<string> {
    const uri = decodePng(await this.qrCode().screenshot());
    const secret = uri === null ? null : new URL(uri).searchParams.get('secret');
    if (secret === null) throw new Error(`the QR code on screen does not read as an otpauth URI with a secret: ${uri}`);
    return secret;
  }

  /** The seconds the countdown under the QR code shows (0 while it is refreshing). */
  async countdown(): Promise<number> {
    const text = await this.page.getByRole('timer').textContent();
    return Number(/(\d+) seconds?/.exec(text ?? '')?.[1] ?? 0);
  }

  /** Waits until the QR code on screen is replaced by a new one (the countdown ended). */
  async waitForNewQrCode(): Promise<void> {
    const shown = await this.qrCode().getAttribute('src');
    await this.page.waitForFunction((previous) => document.querySelector('img[alt^="QR code"]')?.getAttribute('src') !== previous, shown, { timeout: 90_000 });
  }

  /** Types `code` under the QR code and clicks Verify. */
  async verifyEnrollment(code: string): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Code from the app' }).fill(code);
    await this.page.getByRole('dialog').getByRole('button', { name: 'Verify' }).click();
  }

  /** The recovery codes shown once after enabling. */
  async recoveryCodes(): Promise<string[]> {
    const list = this.page.getByRole('dialog', { name: 'Save your recovery codes' }).getByRole('listitem');
    await list.first().waitFor();
    await this.snap('recovery-codes');
    return list.allTextContents();
  }

  /**
   * Signs in without MFA and turns it on with the first QR code (or the next
   * one, when fewer than 3 seconds are left of it): the secret, the
   * recovery codes and the code that Confirm spent. Leaves the person signed
   * out, as enabling does.
   */
  async enableTwoFactor(): Promise<{ secret: string; recoveryCodes: string[]; spentCode: string }> {
    await this.signIn();
    await this.startEnrollment();
    if ((await this.countdown()) < 3) await this.waitForNewQrCode();
    const secret = await this.scanQrCode();
    const spentCode = appCode(secret);
    await this.verifyEnrollment(spentCode);
    const recoveryCodes = await this.recoveryCodes();
    await this.page.getByRole('button', { name: 'I saved them, sign in again' }).click();
    await this.heading('Sign in').waitFor();
    return { secret, recoveryCodes, spentCode };
  }

  /** "Add an authenticator app": scans the new QR code, confirms with its code and `existingCode`; the new app's secret. */
  async addAuthenticatorApp(existingCode: string): Promise<string> {
    await this.page.getByRole('button', { name: 'Add an authenticator app' }).click();
    const dialog = this.page.getByRole('dialog', { name: 'Add an authenticator app' });
    await dialog.getByRole('button', { name: 'Use an Authenticator App' }).click();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await this.page.getByRole('timer').filter({ hasText: /refreshes in/ }).waitFor();
    if ((await this.countdown()) < 3) await this.waitForNewQrCode();
    const secret = await this.scanQrCode();
    await dialog.getByRole('textbox', { name: 'Code from the app' }).fill(appCode(secret));
    await dialog.getByRole('textbox', { name: 'A code from an authenticator you already have, or a recovery code' }).fill(existingCode);
    await dialog.getByRole('button', { name: 'Verify' }).click();
    await dialog.getByText('The authenticator app was added.').waitFor();
    await dialog.getByRole('button', { name: 'Done' }).click();
    return secret;
  }

  /**
   * Plugs a security key into this person's browser: Chromium's virtual
   * authenticator (the DevTools protocol's WebAuthn domain), which answers
   * at once, as a key touched at once, with its user verified (a PIN).
   * Resolves with the function that unplugs it.
   */
  async plugInSecurityKey(): Promise<() => Promise<void>> {
    const cdp = await this.context.newCDPSession(this.page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return async () => {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      await cdp.detach();
    };
  }

  /**
   * Signs in without MFA and turns it on with a security key (plugged in
   * first): "Enable Two-Factor Authentication" → "Use a Security Key" →
   * "Register the security key". The recovery codes; leaves the person signed
   * out, as enabling does.
   */
  async enableWithSecurityKey(): Promise<string[]> {
    await this.signIn();
    await this.heading('Sign-in & Security').waitFor();
    await this.page.getByRole('button', { name: 'Enable Two-Factor Authentication' }).click();
    await this.page.getByRole('button', { name: 'Use a Security Key' }).click();
    await this.snap('security-key');
    await this.page.getByRole('button', { name: 'Register the security key' }).click();
    const recoveryCodes = await this.recoveryCodes();
    await this.page.getByRole('button', { name: 'I saved them, sign in again' }).click();
    await this.heading('Sign in').waitFor();
    return recoveryCodes;
  }

  /** At the code step: "Use your security key", no code typed; ticks "Remember this device" if asked. */
  async useSecurityKey(rememberDevice = false): Promise<void> {
    await this.heading('Two-factor authentication').waitFor();
    if (rememberDevice) await this.page.getByLabel('Remember this device').check();
    await this.snap('code-step-security-key');
    await this.page.getByRole('button', { name: 'Use your security key' }).click();
  }

  /** "Add a security key" (plugged in first), proven with `existingCode`; leaves the dialog open on its outcome. */
  async addSecurityKey(existingCode: string, label = 'Security key'): Promise<void> {
    await this.page.getByRole('button', { name: 'Add a security key' }).click();
    const dialog = this.page.getByRole('dialog', { name: 'Add a security key' });
    await dialog.getByLabel('Name for this key').fill(label);
    await dialog.getByRole('textbox', { name: 'A code from an authenticator you already have, or a recovery code' }).fill(existingCode);
    await this.snap('add-security-key');
    await dialog.getByRole('button', { name: 'Register the security key' }).click();
  }

  /** Clicks the two-factor switch, and turns it off with "Use your security key" (plugged in) instead of a code. */
  async turnOffWithSecurityKey(): Promise<void> {
    await this.page.getByRole('switch', { name: 'Two-factor authentication' }).click();
    const dialog = this.page.getByRole('dialog', { name: 'Turn off two-factor authentication' });
    await dialog.getByRole('button', { name: 'Use your security key' }).waitFor();
    await this.snap('turn-off-security-key');
    await dialog.getByRole('button', { name: 'Use your security key' }).click();
  }

  /** Clicks the two-factor switch, and turns it off with `code`. */
  async turnOff(code: string): Promise<void> {
    await this.page.getByRole('switch', { name: 'Two-factor authentication' }).click();
    const dialog = this.page.getByRole('dialog', { name: 'Turn off two-factor authentication' });
    await dialog.getByLabel('Code from your authenticator app, or a recovery code').fill(code);
    await this.snap('turn-off');
    await dialog.getByRole('button', { name: 'Turn off' }).click();
  }
}
