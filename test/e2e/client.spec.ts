import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createMfaClient, MfaClientError, RETRIED_IDEMPOTENT_WRITES, RETRIED_READS, type MfaClient, type MfaClientOptions } from '../../src/client/index.js';
import { retryServiceConfig } from '../../src/client/retry-service-config.js';
import { buildDist } from '../support/build-dist.js';
import { codeAt, newUserId, useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { startServiceProcess } from '../support/service-process.js';
import { generateTestCerts, type TestCerts } from '../support/test-certs.js';
import { startTestService, type TestService } from '../support/test-service.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'client-login-token-0123456789abcdef';
const AUTH_ENV = { MFA_AUTH_TOKENS: `login-service:${TOKEN}` };

/** Awaits a call that must fail and returns its MfaClientError. */
async function failure(call: Promise<unknown>): Promise<MfaClientError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'the call should have failed').to.be.instanceOf(MfaClientError);
  return error as MfaClientError;
}

describe('The typed client (mfa-service/client)', function () {
  this.timeout(60_000);
  // Servers of its own: it stops and restarts Redis.
  const stores = useRealStores({ private: true });
  const clients: MfaClient[] = [];
  const start = async (env: Record<string, string>): Promise<TestService> => {
    const svc = await startTestService({ ...stores.env, ...AUTH_ENV, ...env });
    stores.cleanups.push(() => svc.stop());
    return svc;
  };
  const connect = (svc: TestService, options: Partial<MfaClientOptions> = {}): MfaClient => {
    const client = createMfaClient({ address: `127.0.0.1:${svc.service.port}`, token: TOKEN, ...options });
    clients.push(client);
    return client;
  };
  after(() => clients.forEach((c) => c.close()));

  describe('calls', () => {
    let svc: TestService;
    before(async () => {
      svc = await start({ MFA_MAX_FAILED_ATTEMPTS: '2' });
    });

    it('runs an enrollment and a login with typed requests and responses, sending the bearer token', async () => {
      const mfa = connect(svc);
      const userId = newUserId('client');
      const begun = await mfa.beginTotpEnrollment({ userId, accountName: 'alice@example.com' });
      expect(begun.otpauthUri).to.match(/^otpauth:\/\/totp\//);
      const confirmed = await mfa.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, svc.clock) });
      expect(confirmed.recoveryCodes).to.have.length(10);
      const verified = await mfa.verifyTotp({ userId, code: codeAt(begun.secret, svc.clock, 1), rememberDevice: true });
      expect((await mfa.checkRememberedDevice({ userId, deviceToken: verified.deviceToken })).remembered).to.equal(true);
      const session = await mfa.checkSession({ userId, sessionIssuedAt: new Date(0) });
      expect(session.revoked).to.equal(true);
      expect(session.sessionsRevokedAt).to.be.instanceOf(Date);
    });

    it('fails UNAUTHENTICATED without the token', async () => {
      const error = await failure(connect(svc, { token: undefined }).getMfaStatus({ userId: 'alice' }));
      expect([error.code, error.reason]).to.deep.equal([status.UNAUTHENTICATED, 'UNAUTHENTICATED']);
    });

    it('gives the reason, the field violations and the request id of an invalid request', async () => {
      const error = await failure(connect(svc).getMfaStatus({ userId: '' }, { requestId: 'client-req-1' }));
      expect([error.code, error.reason]).to.deep.equal([status.INVALID_ARGUMENT, 'INVALID_REQUEST']);
      expect(error.fieldViolations.map((v) => v.field)).to.deep.equal(['user_id']);
      expect(error.fieldViolations[0]!.description).to.not.equal('');
      expect(error.requestId).to.equal('client-req-1');
    });

    it('gives the reason of a wrong code, and the RetryInfo delay of a lockout', async () => {
      const mfa = connect(svc);
      const userId = newUserId('locked');
      const begun = await mfa.beginTotpEnrollment({ userId });
      await mfa.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, svc.clock) });
      // A code that no period within the accepted drift has.
      const valid = [-1, 0, 1, 2].map((steps) => codeAt(begun.secret, svc.clock, steps));
      const wrongCode = ['000000', '111111', '222222', '333333', '444444'].find((code) => !valid.includes(code))!;
      const wrong = await failure(mfa.verifyTotp({ userId, code: wrongCode }));
      expect([wrong.code, wrong.reason, wrong.retryDelayMs]).to.deep.equal([status.PERMISSION_DENIED, 'INVALID_CODE', null]);
      // MFA_MAX_FAILED_ATTEMPTS=2: the second failure locks the user out.
      const locked = await failure(mfa.verifyTotp({ userId, code: wrongCode }));
      expect([locked.code, locked.reason]).to.deep.equal([status.RESOURCE_EXHAUSTED, 'LOCKED_OUT']);
      expect(locked.retryDelayMs).to.be.greaterThan(0).and.at.most(900_000);
    });

    it('cancels a call when its signal aborts', async () => {
      const aborted = new AbortController();
      aborted.abort();
      const error = await failure(connect(svc).getMfaStatus({ userId: 'alice' }, { signal: aborted.signal }));
      expect(error.code).to.equal(status.CANCELLED);
    });
  });

  describe('TLS', () => {
    let certs: TestCerts;
    before(() => {
      certs = generateTestCerts();
    });

    it('talks TLS to a service with GRPC_TLS_CERT, trusting the given CA', async () => {
      const svc = await start({ GRPC_TLS_CERT: certs.serverCertPath, GRPC_TLS_KEY: certs.serverKeyPath });
      const mfa = connect(svc, { address: `localhost:${svc.service.port}`, tls: { ca: certs.caCert } });
      expect((await mfa.getMfaStatus({ userId: newUserId() })).enabled).to.equal(false);
    });

    it('presents its certificate to a service that requires mutual TLS, and cannot call it without one', async () => {
      const svc = await start({ GRPC_TLS_CERT: certs.serverCertPath, GRPC_TLS_KEY: certs.serverKeyPath, GRPC_TLS_CLIENT_CA: certs.caCertPath });
      const address = `localhost:${svc.service.port}`;
      const mutual = connect(svc, { address, tls: { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey } });
      expect((await mutual.getMfaStatus({ userId: newUserId() })).enabled).to.equal(false);
      const error = await failure(connect(svc, { address, tls: { ca: certs.caCert }, retry: false }).getMfaStatus({ userId: newUserId() }));
      expect(error.code).to.equal(status.UNAVAILABLE);
    });
  });

  describe('retries, through the service config', () => {
    it('retries the reads, and RedeemMfaAssertion (resent as is: the same redemption_id), and only them, on UNAVAILABLE', () => {
      const config = JSON.parse(retryServiceConfig({})) as { methodConfig: Array<{ name: Array<{ method: string }>; retryPolicy: { retryableStatusCodes: string[] } }> };
      expect(config.methodConfig).to.have.length(1);
      expect(config.methodConfig[0]!.name.map((n) => n.method)).to.have.members([...RETRIED_READS, ...RETRIED_IDEMPOTENT_WRITES]);
      expect([...RETRIED_IDEMPOTENT_WRITES]).to.deep.equal(['RedeemMfaAssertion']);
      expect(config.methodConfig[0]!.retryPolicy.retryableStatusCodes).to.deep.equal(['UNAVAILABLE']);
      for (const check of ['VerifyTotp', 'VerifyRecoveryCode', 'DisableMfa', 'RegenerateRecoveryCodes', 'ConfirmTotpEnrollment', 'RemoveAuthenticator']) {
        expect(RETRIED_READS as readonly string[]).to.not.include(check);
      }
    });

    context('while Redis is down (the service answers UNAVAILABLE)', () => {
      let svc: TestService;
      /** How many times the service served the call with this request id. */
      const attempts = (requestId: string) => svc.logs.filter((line) => line.includes(`"requestId":"${requestId}"`) && line.includes('"msg":"rpc"')).length;
      let enrolled: { userId: string; secret: string };
      before(async () => {
        svc = await start({ MFA_STORE_TIMEOUT_MS: '300' });
        const mfa = connect(svc);
        const userId = newUserId('outage');
        const begun = await mfa.beginTotpEnrollment({ userId });
        await mfa.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, svc.clock) });
        enrolled = { userId, secret: begun.secret };
        await stores.redisServer.stop();
      });
      after(async () => {
        await stores.redisServer.restart();
      });

      it('retries a read, up to maxAttempts, then fails with STORE_UNAVAILABLE', async () => {
        const error = await failure(connect(svc, { retry: { maxAttempts: 3, initialBackoffMs: 10 } }).getMfaStatus({ userId: 'alice' }, { requestId: 'read-retried' }));
        expect([error.code, error.reason]).to.deep.equal([status.UNAVAILABLE, 'STORE_UNAVAILABLE']);
        expect(attempts('read-retried')).to.equal(3);
      });

      it('never retries a code check', async () => {
        const error = await failure(connect(svc, { retry: { maxAttempts: 3, initialBackoffMs: 10 } }).verifyTotp({ userId: enrolled.userId, code: codeAt(enrolled.secret, svc.clock, 1) }, { requestId: 'check-once' }));
        expect([error.code, error.reason]).to.deep.equal([status.UNAVAILABLE, 'STORE_UNAVAILABLE']);
        expect(attempts('check-once')).to.equal(1);
      });

      it('does not retry at all with retry: false', async () => {
        await failure(connect(svc, { retry: false }).getMfaStatus({ userId: 'alice' }, { requestId: 'read-once' }));
        expect(attempts('read-once')).to.equal(1);
      });
    });
  });

  it('gives every call the default deadline', async () => {
    const service = await startServiceProcess({ ...stores.env, ...AUTH_ENV });
    stores.cleanups.push(() => service.stop());
    const mfa = createMfaClient({ address: `127.0.0.1:${service.port}`, token: TOKEN, deadlineMs: 500 });
    clients.push(mfa);
    // Connecting may take longer than the deadline on a busy machine; once connected, calls answer well within it.
    await eventually(async () => expect((await mfa.getMfaStatus({ userId: 'alice' })).enabled).to.equal(false), 10_000);
    // A stopped server never answers: only the deadline ends the call.
    void service.signal('SIGSTOP');
    try {
      const error = await failure(mfa.getMfaStatus({ userId: 'alice' }));
      expect(error.code).to.equal(status.DEADLINE_EXCEEDED);
    } finally {
      void service.signal('SIGCONT');
    }
  });

  it('is exported by the package as mfa-service/client, with its types', async function () {
    this.timeout(180_000);
    await buildDist();
    const script = "import('mfa-service/client').then((m) => console.log(typeof m.createMfaClient, typeof m.MfaClientError, m.RETRIED_READS.length))";
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(stdout.trim()).to.equal(`function function ${RETRIED_READS.length}`);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string }> };
    expect(readFileSync(join(ROOT, pkg.exports['./client']!.types), 'utf8')).to.contain('createMfaClient');
  });
});
