import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../../dev/free-port.js';
import { decodeText } from '../support/qr-decode.js';
import { readmeShellLinesBetween } from '../support/readme-commands.js';
import { TEST_KEYS } from '../support/test-service.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'walkthrough.sh');
const README_START = '<!-- walkthrough.sh begins -->';
const README_END = '<!-- walkthrough.sh ends -->';

/**
 * The script's commands after its marker line, as the README shows them:
 * without step headings, comments and lines marked "script only", and with
 * the port's default (`${GRPC_PORT:-50051}`) as the README writes it.
 */
function scriptCommands(): string[] {
  const text = readFileSync(SCRIPT, 'utf8');
  const body = text.slice(text.indexOf("# ---- The README's commands from here on ----"));
  return body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('step ') && !line.includes('# script only'))
    .map((line) => line.replace('${GRPC_PORT:-50051}', '50051'));
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('The README walk-through (scripts/walkthrough.sh)', function () {
  this.timeout(240_000);
  const stores = useRealStores();

  it('shows in the README the same commands as the script, in the same order', () => {
    expect(readmeShellLinesBetween(README_START, README_END)).to.deep.equal(scriptCommands());
  });

  it('runs end to end on real stores: enrollment, log-in, devices, settings, sessions, turning MFA off, admin RPCs', async () => {
    const grpcurl = (await run(join(ROOT, 'scripts', 'ensure-tool.sh'), ['grpcurl'], { timeout: 600_000 })).stdout.trim();
    const port = await freePort();
    const env = {
      ...process.env,
      ...stores.env,
      MFA_ENCRYPTION_KEYS: TEST_KEYS,
      GRPC_PORT: String(port),
      PATH: `${dirname(grpcurl)}:${process.env['PATH']}`,
    };
    // Three TOTP codes of one secret need three 30-second periods: about a minute.
    const result = await run(SCRIPT, [], { cwd: ROOT, env, timeout: 200_000, maxBuffer: 10 * 1024 * 1024 }).catch(
      (error: { stdout: string; stderr: string; code: number }) => {
        const logFile = join(ROOT, '.tmp', 'mfa.log');
        const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '(none)';
        throw new Error(`walkthrough.sh failed (${error.code}):\n${error.stdout.slice(-3000)}\n${error.stderr}\nservice log:\n${log}`);
      },
    );
    const out = result.stdout;

    // The QR code drawn in the terminal reads as the otpauth URI printed after it.
    const uri = /^otpauth:\/\/totp\/.*$/m.exec(out)?.[0];
    const qr = out.split('\n').filter((line) => line.includes('\u001b[47m')).join('\n');
    expect(uri).to.match(/^otpauth:\/\/totp\/MFA%20Service:alice%40example\.com\?secret=/);
    expect(decodeText(qr, 0)).to.equal(uri);
    // The answers that grpcurl would print as {} without -emit-defaults.
    expect(out).to.match(/"remembered": true/);
    expect(out).to.match(/"remembered": false/);
    expect(out).to.match(/"devices": \[\]/);
    expect(out).to.match(/"revoked": false[\s\S]*"revoked": true/);
    expect(out).to.match(/"enabled": false/);
    // The helper waited for fresh periods instead of failing with CODE_REUSED.
    expect(result.stderr.match(/waiting \d+ s for the next one/g)).to.have.length(2);
    expect(out).to.match(/"recoveryCodesRemaining": 9/);
    // The admin RPCs with the support console's token.
    expect(out).to.match(/"resetAt":/);
    expect(out).to.match(/"event": "mfa.disabled"[\s\S]*"caller": "login-service"/);
    // And it stopped the service it started.
    await eventually(async () => expect(await listens(port)).to.equal(false), 15_000);
  });
});
