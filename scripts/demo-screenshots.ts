/**
 * `npm run demo:screenshots`: the screenshots of the README's demo section
 * (docs/images/settings-page-*.png), made by walking the settings page in
 * Chromium with the browser tests' own steps (test/support/settings-page.ts),
 * on a demo of its own (embedded stores, the default 60 s QR code), and a
 * security key played by Chromium's virtual authenticator.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium, launchChromium } from '../test/support/chromium.js';
import { appCode, Person, startDemo } from '../test/support/settings-page.js';

const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'images');

await ensureChromium((line) => console.log(line));
await mkdir(IMAGES, { recursive: true });
const [browser, demo] = await Promise.all([launchChromium(), startDemo({})]);
const written: string[] = [];
const names = new Set<string>();
let person: Person | null = null;
// One screenshot per step: the steps that repeat (signing in) are taken the first time.
const snap = async (name: string) => {
  if (names.has(name)) return;
  names.add(name);
  const file = join(IMAGES, `settings-page-${String(written.length + 1).padStart(2, '0')}-${name}.png`);
  await writeFile(file, await person!.page.screenshot({ fullPage: true }));
  written.push(file);
};

try {
  person = await Person.open(browser, demo, 'alice', snap);
  const { secret, recoveryCodes } = await person.enableTwoFactor();
  await snap('signed-out');
  await person.signIn();
  await person.enterCode(appCode(secret, 1), true);
  await person.heading('Sign-in & Security').waitFor();
  await person.page.getByText('Two-factor authentication was turned on').waitFor();
  await snap('settings-on');
  const settings = person;
  // Another browser (this one is remembered): a wrong code at its code step.
  person = await Person.open(browser, demo, 'alice', snap);
  await person.signIn();
  await person.enterCode(appCode(secret, 1) === '000000' ? '111111' : '000000');
  await person.alert().waitFor();
  await snap('wrong-code');
  await person.close();
  person = settings;
  await person.turnOff(recoveryCodes[0]!); // this period's code and the next are spent
  await person.heading('Sign in').waitFor();
  await person.close();
  // A security key (Chromium's virtual authenticator): turning MFA on with it, then signing in with it.
  person = await Person.open(browser, demo, 'bob', snap);
  await person.plugInSecurityKey();
  await person.enableWithSecurityKey();
  await person.signIn();
  await person.useSecurityKey();
  await person.heading('Sign-in & Security').waitFor();
  await person.page.getByText('Two-factor authentication was turned on').waitFor();
  await snap('settings-security-key');
} finally {
  await person?.close();
  await browser.close();
  await demo.stop();
}
for (const file of written) console.log(`wrote ${file}`);
