import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { buildDist } from '../support/build-dist.js';
import { generateTotp } from '../../src/domain/totp.js';
import { bearer } from '../support/grpc-client.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'node-client');
const TOKEN = 'example-token-0123456789abcdef';

/**
 * examples/node-client as a caller has it after `npm install ../mfa-service`: its own files, and
 * mfa-service linked into node_modules (npm links a path dependency), built with its own tsconfig.
 */
describe('The Node client example (examples/node-client), as a caller installs it', function () {
  this.timeout(120_000);
  let dir: string;
  let service: ServiceProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfa-node-client-'));
    for (const file of ['package.json', 'tsconfig.json', 'login.ts']) await cp(join(EXAMPLE, file), join(dir, file));
    await mkdir(join(dir, 'node_modules', '@types'), { recursive: true });
    await symlink(ROOT, join(dir, 'node_modules', 'mfa-service'));
    await symlink(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
    // The package's exports point into dist/, which `npm install` builds (its prepare script).
    await buildDist(); // one build at a time across mocha's parallel workers
    service = await startServiceProcess({ MFA_AUTH_TOKENS: `login-service:${TOKEN}` });
  });

  after(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('compiles as written (tsc, strict, NodeNext), and logs a user in with a right code, and refuses a wrong one', async () => {
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir }).catch((error: { stdout: string }) => {
      throw new Error(`the example does not compile:\n${error.stdout}`);
    });
    const userId = `example-${process.pid}`;
    const metadata = bearer(TOKEN);
    const begun = await service.client.beginTotpEnrollment({ userId }, metadata);
    await service.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, new Date()) }, metadata);

    const env = { ...process.env, MFA_ADDRESS: `127.0.0.1:${service.port}`, MFA_TOKEN: TOKEN };
    const login = (code: string) => run(process.execPath, [join(dir, 'dist', 'login.js'), userId, code], { cwd: dir, env });
    const wrong = await login('000000').then(
      () => null,
      (error: { code: number; stdout: string }) => error,
    );
    expect(wrong?.code).to.equal(1);
    expect(wrong?.stdout).to.equal(`${userId}: wrong code (INVALID_CODE); ask again\n`);
    const next = generateTotp(begun.secret, new Date(Date.now() + 30_000)); // the next period's: accepted a period early
    expect((await login(next)).stdout).to.match(new RegExp(`^${userId}: code accepted; this device is remembered`));
  });
});
