import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHECK = join(ROOT, 'scripts', 'check-contract.sh');

/** Runs the contract check (as npm test does) on a copy of proto/ changed by `edit`; its exit code and output. */
async function checkChanged(edit: (proto: string) => string): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-contract-'));
  try {
    await cp(join(ROOT, 'proto'), dir, { recursive: true });
    const file = join(dir, 'mfa', 'v1', 'mfa.proto');
    const before = await readFile(file, 'utf8');
    const after = edit(before);
    expect(after, 'the edit changed the proto').to.not.equal(before);
    await writeFile(file, after);
    const { stdout, stderr } = await run(CHECK, [dir], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('The contract check (buf breaking against proto-baseline/)', function () {
  this.timeout(60_000);

  it('passes the proto as committed', async () => {
    const { stdout } = await run(CHECK, [], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).to.contain('compatible with the v1 baseline');
  });

  it('passes an additive change: a new field and a new RPC', async () => {
    const result = await checkChanged((proto) =>
      proto
        .replace('message GetMfaStatusRequest {\n', 'message GetMfaStatusRequest {\n  // A new field.\n  string tenant_id = 99;\n')
        .replace('service MfaService {\n', 'service MfaService {\n  // A new RPC.\n  rpc Ping(GetMfaStatusRequest) returns (GetMfaStatusResponse);\n\n'),
    );
    expect(result.code, result.output).to.equal(0);
  });

  for (const [what, edit, complaint] of [
    ['a field changing type', (p: string) => p.replace(/string account_name = (\d+);/, 'int64 account_name = $1;'), /account_name.*changed type/],
    ['a field removed', (p: string) => p.replace(/\n\s*\/\/[^\n]*\n\s*bool remember_device = \d+;/, ''), /remember_device.*was deleted/],
    ['an RPC renamed', (p: string) => p.replace('rpc CheckSession(', 'rpc CheckUserSession('), /CheckSession/],
  ] as const) {
    it(`fails on ${what}, and says how to move the baseline when it is deliberate`, async () => {
      const result = await checkChanged(edit);
      expect(result.code).to.not.equal(0);
      expect(result.output).to.match(complaint);
      expect(result.output).to.contain('npm run contract:accept');
    });
  }
});
