import { execFile, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { decodeText } from '../support/qr-decode.js';
import { documentedGrpcurlCommands } from '../support/readme-commands.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { startTestService } from '../support/test-service.js';

const run = promisify(execFile);
const TOKEN = 'grpcurl-token-0123456789abcdef';
const SUPPORT_TOKEN = 'grpcurl-support-0123456789abcdef';
const AUTH = ['-H', `authorization: Bearer ${TOKEN}`];
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The pinned grpcurl, built into .tools/bin on first use (scripts/ensure-tool.sh). */
async function grpcurlPath(): Promise<string> {
  try {
    return (await run(join(ROOT, 'scripts', 'ensure-tool.sh'), ['grpcurl'], { timeout: 600_000 })).stdout.trim();
  } catch (error) {
    throw new Error(`grpcurl is needed for this test and could not be built (install Go 1.22+): ${(error as Error).message}`);
  }
}

describe('grpcurl against a running service with caller tokens', function () {
  this.timeout(120_000);
  const stores = useRealStores();
  let grpcurl: string;
  let service: ServiceProcess;
  const call = async (...args: string[]) => (await run(grpcurl, ['-plaintext', ...args], { timeout: 20_000 })).stdout;
  /** What grpcurl printed to stderr for a call that must fail. */
  const failureOutput = async (...args: string[]) => {
    try {
      await call(...args);
    } catch (error) {
      return (error as { stderr: string }).stderr;
    }
    throw new Error(`grpcurl ${args.join(' ')} succeeded, but it should have failed`);
  };

  before(async function () {
    this.timeout(700_000);
    grpcurl = await grpcurlPath();
    service = await startServiceProcess({
      ...stores.env,
      MFA_AUTH_TOKENS: `login-service:${TOKEN},support-console:${SUPPORT_TOKEN}`,
      MFA_ADMIN_CALLERS: 'support-console',
      MFA_ASSERTION_ISSUER: 'https://mfa.internal',
    });
    stores.cleanups.push(() => service.stop());
  });

  // The walk-through's commands (on $GRPC_PORT) run in walkthrough.spec.ts, as scripts/walkthrough.sh.
  describe("the other grpcurl commands of the README and docs/*.md, as written", () => {
    // Commands with placeholders the reader fills in (a code from the app, a token, an id) are left out,
    // and so are those that need a user with MFA on (adding an authenticator), and the stream that
    // never ends (WatchSecurityEvents: its own test below follows it).
    const PLACEHOLDERS = ['123456', 'ABCDE-FGHJK', '"TOKEN"', 'dev_...', 'aut_...', 'add_authenticator', '$(jq', 'ResetMfa', '-cacert', 'WatchSecurityEvents'];
    const commands = documentedGrpcurlCommands().filter((c) => !c.includes('$GRPC_PORT') && !PLACEHOLDERS.some((p) => c.includes(p)));

    it("include the README's smoke check, and docs/' WatchTotpEnrollment stream, authenticated call and ListAuthenticators", () => {
      const joined = commands.join('\n');
      for (const part of ['localhost:50051 list', 'WatchTotpEnrollment', 'authorization: Bearer $LOGIN_TOKEN', 'ListAuthenticators']) expect(joined).to.contain(part);
    });

    it('all succeed against a running server (without tokens, or with them where they carry one)', async () => {
      // A 1 s TTL, so that the README's WatchTotpEnrollment (max_refreshes 2) ends well within the command timeout.
      const open = await startServiceProcess({ ...stores.env, MFA_ENROLLMENT_TTL_SECONDS: '1', MFA_ASSERTION_ISSUER: 'https://mfa.internal' });
      stores.cleanups.push(() => open.stop());
      const dir = await mkdtemp(join(tmpdir(), 'readme-'));
      for (const command of commands) {
        const authenticated = command.includes('_TOKEN');
        const port = authenticated ? service.port : open.port;
        const env = {
          ...process.env,
          PATH: `${dirname(grpcurl)}:${process.env['PATH']}`,
          LOGIN_TOKEN: TOKEN,
          SUPPORT_TOKEN: SUPPORT_TOKEN,
        };
        const script = command.replaceAll('localhost:50051', `127.0.0.1:${port}`);
        await run('bash', ['-c', script], { cwd: dir, env, timeout: 20_000 }).catch((error: { stderr: string }) => {
          throw new Error(`documented command failed: ${command}\n${error.stderr}`);
        });
      }
    });
  });

  it('lists MfaService and Health through reflection', async () => {
    const listed = (await call(`127.0.0.1:${service.port}`, 'list')).split('\n');
    expect(listed).to.include.members(['mfa.v1.MfaService', 'grpc.health.v1.Health']);
  });

  it('describes MfaService', async () => {
    const described = await call(`127.0.0.1:${service.port}`, 'describe', 'mfa.v1.MfaService');
    for (const rpc of ['BeginTotpEnrollment', 'VerifyTotp', 'CheckSession', 'DisableMfa']) expect(described).to.contain(`rpc ${rpc}`);
  });

  it('answers health checks for the server and for mfa.v1.MfaService', async () => {
    expect(JSON.parse(await call(`127.0.0.1:${service.port}`, 'grpc.health.v1.Health/Check'))).to.deep.equal({ status: 'SERVING' });
    const named = await call('-d', '{"service":"mfa.v1.MfaService"}', `127.0.0.1:${service.port}`, 'grpc.health.v1.Health/Check');
    expect(JSON.parse(named)).to.deep.equal({ status: 'SERVING' });
  });

  it('begins an enrollment from JSON input, with a QR code that prints in a terminal', async () => {
    const userId = newUserId('grpcurl');
    const request = JSON.stringify({ user_id: userId, account_name: 'alice@example.com' });
    const out = await call(...AUTH, '-d', request, `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/BeginTotpEnrollment');
    const begun = JSON.parse(out) as Record<string, string>;
    expect(begun['otpauthUri']).to.match(/^otpauth:\/\/totp\//);
    expect(decodeText(begun['qrCodeText']!)).to.equal(begun['otpauthUri']);
    expect(begun['algorithm']).to.equal('TOTP_ALGORITHM_SHA1');
  });

  it('streams WatchTotpEnrollment: one JSON object per message, with one of enrollment, confirmed or expired set', async () => {
    const quick = await startTestService({ ...stores.env, MFA_ENROLLMENT_TTL_SECONDS: '1' });
    stores.cleanups.push(() => quick.stop());
    const request = JSON.stringify({ user_id: newUserId('grpcurl-watch'), max_refreshes: 1 });
    const out = await call('-d', request, `127.0.0.1:${quick.service.port}`, 'mfa.v1.MfaService/WatchTotpEnrollment');
    // grpcurl prints each message as indented JSON starting on a line of its own.
    const messages = out.split(/\n(?=\{)/).map((text) => JSON.parse(text) as Record<string, Record<string, string>>);
    expect(messages.map((m) => Object.keys(m))).to.deep.equal([['enrollment'], ['enrollment'], ['expired']]);
    expect(messages[2]).to.deep.equal({ expired: {} });
    for (const { enrollment } of messages.slice(0, 2)) expect(decodeText(enrollment!['qrCodeText']!)).to.equal(enrollment!['otpauthUri']);
  });

  it("follows WatchSecurityEvents with the documented command: a heartbeat, then the events of its types as they commit", async () => {
    const [command] = documentedGrpcurlCommands().filter((c) => c.includes('WatchSecurityEvents'));
    expect(command, 'docs/api.md follows WatchSecurityEvents with grpcurl').to.be.a('string');
    const child = spawn('bash', ['-c', command!.replaceAll('localhost:50051', `127.0.0.1:${service.port}`)], {
      env: { ...process.env, PATH: `${dirname(grpcurl)}:${process.env['PATH']}`, SUPPORT_TOKEN },
    });
    stores.cleanups.push(async () => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const messages = () => out.split(/\n(?=\{)/).filter((text) => text.trim().endsWith('}')).map((text) => JSON.parse(text) as Record<string, Record<string, unknown>>);
    const waitFor = async (done: () => boolean) => {
      for (const until = Date.now() + 15_000; !done(); await new Promise((resolve) => setTimeout(resolve, 50))) {
        if (Date.now() > until) throw new Error(`grpcurl did not print what was expected:\n${out}`);
      }
    };
    await waitFor(() => messages().length > 0);
    expect(Object.keys(messages()[0]!)).to.deep.equal(['heartbeat']);
    // A user who enrolls, revokes sessions (not of the README's types) and turns MFA off with a recovery code.
    const userId = newUserId('grpcurl-events');
    const login = ['-H', `authorization: Bearer ${TOKEN}`];
    const begun = JSON.parse(await call(...login, '-d', JSON.stringify({ user_id: userId }), `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/BeginTotpEnrollment')) as Record<string, string>;
    const code = (await run(process.execPath, [join(ROOT, 'scripts', 'totp-code.mjs'), begun['secret']!])).stdout.trim();
    const confirmed = JSON.parse(
      await call(...login, '-d', JSON.stringify({ user_id: userId, enrollment_id: begun['enrollmentId'], code }), `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/ConfirmTotpEnrollment'),
    ) as { recoveryCodes: string[] };
    await call(...login, '-d', JSON.stringify({ user_id: userId }), `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/RevokeSessions');
    await call(...login, '-d', JSON.stringify({ user_id: userId, recovery_code: confirmed.recoveryCodes[0] }), `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/VerifyRecoveryCode');
    await call(...login, '-d', JSON.stringify({ user_id: userId, code: confirmed.recoveryCodes[1] }), `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/DisableMfa');
    const events = () => messages().slice(1).map((m) => m['event']!).filter((e) => e['userId'] === userId);
    await waitFor(() => events().length >= 2);
    expect(events().map((e) => e['type'])).to.deep.equal(['SECURITY_EVENT_TYPE_RECOVERY_CODE_USED', 'SECURITY_EVENT_TYPE_MFA_DISABLED']);
    expect(events()[0]).to.deep.include({ recoveryCodesRemaining: 9, caller: 'login-service' });
    child.kill('SIGTERM');
  });

  it('cannot list services when GRPC_REFLECTION=false', async () => {
    const quiet = await startTestService({ ...stores.env, GRPC_REFLECTION: 'false' });
    stores.cleanups.push(() => quiet.stop());
    const stderr = await failureOutput(`127.0.0.1:${quiet.service.port}`, 'list');
    expect(stderr).to.contain('does not support the reflection API');
  });

  it('refuses a call without the bearer token', async () => {
    const stderr = await failureOutput('-d', '{"user_id":"alice"}', `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/GetMfaStatus');
    expect(stderr).to.contain('Unauthenticated');
  });

  it('shows an error reason in the status details', async () => {
    const stderr = await failureOutput(...AUTH, '-d', '{"user_id":""}', `127.0.0.1:${service.port}`, 'mfa.v1.MfaService/GetMfaStatus');
    expect(stderr).to.contain('InvalidArgument');
    expect(stderr).to.contain('INVALID_REQUEST');
  });
});
