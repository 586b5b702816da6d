import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { generateTotp, timeStepAt } from '../../src/domain/totp.js';

const run = promisify(execFile);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'totp-code.mjs');
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('scripts/totp-code.mjs (the walk-through\'s code helper)', () => {
  let stateRoot: string;
  beforeEach(async () => {
    stateRoot = await mkdtemp(join(tmpdir(), 'totp-code-'));
  });
  afterEach(() => rm(stateRoot, { recursive: true, force: true }));

  it("prints the code the service's own TOTP makes for the current period", async () => {
    const before = new Date();
    const { stdout } = await run(process.execPath, [SCRIPT, SECRET.toLowerCase()], { env: { ...process.env, TMPDIR: stateRoot } });
    const after = new Date();
    // At a period boundary the script may have seen either side of it.
    expect([generateTotp(SECRET, before), generateTotp(SECRET, after)]).to.include(stdout.trim());
  });

  it('remembers the period it printed under a hash of the secret, never the secret', async () => {
    await run(process.execPath, [SCRIPT, SECRET], { env: { ...process.env, TMPDIR: stateRoot } });
    const [name] = await readdir(join(stateRoot, 'mfa-totp-code'));
    expect(name).to.match(/^[0-9a-f]{32}$/);
    const step = Number(await readFile(join(stateRoot, 'mfa-totp-code', name!), 'utf8'));
    expect(step).to.be.within(timeStepAt(new Date()) - 1, timeStepAt(new Date()));
  });

  it("asked again within the period, prints the next period's code at once (the service accepts it a period early)", async () => {
    const env = { env: { ...process.env, TMPDIR: stateRoot } };
    await run(process.execPath, [SCRIPT, SECRET], env);
    const [name] = await readdir(join(stateRoot, 'mfa-totp-code'));
    const first = Number(await readFile(join(stateRoot, 'mfa-totp-code', name!), 'utf8'));
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, SECRET], env);
    expect(Date.now() - started).to.be.below(5_000);
    expect(stderr).to.equal('');
    expect(stdout.trim()).to.equal(generateTotp(SECRET, new Date((first + 1) * 30_000)));
  });

  it('refuses what is not a base32 secret', async () => {
    const failed = await run(process.execPath, [SCRIPT, 'not a secret!']).then(() => null, (error: { code: number; stderr: string }) => error);
    expect(failed?.code).to.equal(2);
    expect(failed?.stderr).to.contain('usage:');
  });
});
