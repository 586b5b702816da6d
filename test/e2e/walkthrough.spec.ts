import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { buildDist } from '../support/build-dist.js';
import { useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { listens } from '../../dev/child-process.js';
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

type RunResult = { stdout: string; stderr: string; port: number };

/** Runs scripts/walkthrough.sh on a free port with `env`; a failure carries the output and the service's log. */
async function runWalkthrough(grpcurl: string, env: Record<string, string | undefined>, port: number): Promise<RunResult> {
  const fullEnv = { ...env, MFA_ENCRYPTION_KEYS: TEST_KEYS, GRPC_PORT: String(port), PATH: `${dirname(grpcurl)}:${process.env['PATH']}` };
  const result = await run(SCRIPT, [], { cwd: ROOT, env: fullEnv, timeout: 150_000, maxBuffer: 10 * 1024 * 1024 }).catch(
    (error: { stdout: string; stderr: string; code: number }) => {
      const logFile = join(ROOT, '.tmp', `mfa-${port}.log`);
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '(none)';
      throw new Error(`walkthrough.sh failed (${error.code}):\n${error.stdout.slice(-3000)}\n${error.stderr}\nservice log:\n${log}`);
    },
  );
  return { ...result, port };
}

/** What every run shows, whatever its stores. */
async function expectWholeLifecycle(result: RunResult): Promise<void> {
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
  // The helper printed the next period's code instead of failing with CODE_REUSED; it waited once at most.
  expect(result.stderr.match(/waiting \d+ s for the next one/g) ?? []).to.have.length.below(2);
  expect(out).to.match(/"recoveryCodesRemaining": 9/);
  // The admin RPCs with the support console's token.
  expect(out).to.match(/"resetAt":/);
  expect(out).to.match(/"event": "mfa.disabled"[\s\S]*"caller": "login-service"/);
  // And it stopped the service it started.
  await eventually(async () => expect(await listens(result.port)).to.equal(false), 15_000);
}

/** The alice-<hex> a run used, as its audit trail shows it. */
function aliceOf(result: RunResult): string {
  return /"userId": "(alice-[0-9a-f]{8})"/.exec(result.stdout)?.[1] ?? '(none)';
}

describe('The README walk-through (scripts/walkthrough.sh)', function () {
  this.timeout(300_000);
  const stores = useRealStores();
  let grpcurl: string;

  before(async function () {
    this.timeout(700_000);
    grpcurl = (await run(join(ROOT, 'scripts', 'ensure-tool.sh'), ['grpcurl'], { timeout: 600_000 })).stdout.trim();
    // Built once here, so that the runs below, which overlap, find dist/ current and do not build it at once.
    await buildDist(); // one build at a time across mocha's parallel workers
  });

  it('shows in the README the same commands as the script, in the same order', () => {
    expect(readmeShellLinesBetween(README_START, README_END)).to.deep.equal(scriptCommands());
  });

  it('runs end to end twice in a row on the same real stores, and twice on the embedded stores, with users of its own each time', async () => {
    // Neither the outer environment's stores nor a developer's .stores/env: an empty STORES_DIR.
    const outer = Object.fromEntries(Object.entries(process.env).filter(([name]) => !['REDIS_URL', 'MONGO_URL', 'MONGO_DB', 'REDIS_CLUSTER'].includes(name)));
    const noStores = await mkdtemp(join(tmpdir(), 'walkthrough-no-stores-'));
    const twice = async (env: Record<string, string | undefined>) => {
      const first = await runWalkthrough(grpcurl, env, await freePort());
      const second = await runWalkthrough(grpcurl, env, await freePort());
      return [first, second] as const;
    };
    const [real, embedded] = await Promise.all([twice({ ...outer, ...stores.env }), twice({ ...outer, STORES_DIR: noStores })]);
    await rm(noStores, { recursive: true, force: true });
    for (const result of [...real, ...embedded]) await expectWholeLifecycle(result);
    expect(real[0].stdout).to.contain('walkthrough: on the stores in the environment (REDIS_URL, MONGO_URL)');
    expect(embedded[0].stdout).to.contain('walkthrough: on the embedded in-memory stores');
    // The second run on the same stores enrolled a new alice instead of failing ALREADY_EXISTS with the first one's.
    expect(aliceOf(real[0])).to.match(/^alice-[0-9a-f]{8}$/);
    expect(aliceOf(real[1])).to.match(/^alice-[0-9a-f]{8}$/).and.not.equal(aliceOf(real[0]));
  });

  it('fails with the service\'s one line when its port is taken, instead of talking to whatever answers there', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const failed = await run(SCRIPT, [], {
        cwd: ROOT,
        // The embedded stores, whatever a developer's .stores/env says: the port alone must fail it.
        env: { ...process.env, REDIS_URL: '', STORES_DIR: join(tmpdir(), 'walkthrough-no-stores'), GRPC_PORT: String(port), PATH: `${dirname(grpcurl)}:${process.env['PATH']}` },
        timeout: 60_000,
      }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed, 'the walk-through succeeded on a taken port').to.not.equal(null);
      expect(failed!.code).to.equal(1);
      expect(failed!.stderr).to.equal(`mfa-service: failed to start: port ${port} is in use; set GRPC_PORT\n`);
    } finally {
      taken.close();
    }
  });
});
