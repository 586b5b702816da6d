import { Metadata, status, credentials, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaServiceClient, GetMfaStatusRequest, SecurityEventType } from '../../src/gen/mfa/v1/mfa.js';
import { codeAt, newUserId, useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { bearer, connectClient, expectFailure, type MfaClient } from '../support/grpc-client.js';
import { checkHealth, watchHealth } from '../support/health-client.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { startTestService, type TestService } from '../support/test-service.js';

const LOGIN_TOKEN = 'login-token-0123456789abcdef';
const SUPPORT_TOKEN = 'support-token-0123456789abcdef';
const AUTH_ENV = {
  MFA_AUTH_TOKENS: `login-service:${LOGIN_TOKEN},support-console:${SUPPORT_TOKEN}`,
  MFA_ADMIN_CALLERS: 'support-console',
  METRICS_PORT: '0',
  METRICS_HOST: '127.0.0.1',
};

describe('Running it in production (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  let svc: TestService;
  let login: MfaClient;
  let support: MfaClient;

  before(async () => {
    svc = await startTestService({ ...stores.env, ...AUTH_ENV });
    stores.cleanups.push(() => svc.stop());
    login = connectClient(svc.service.port, { metadata: () => bearer(LOGIN_TOKEN) });
    support = connectClient(svc.service.port, { metadata: () => bearer(SUPPORT_TOKEN) });
    stores.cleanups.push(async () => {
      login.close();
      support.close();
    });
  });

  describe('start-up in production', () => {
    it('warns when neither caller tokens nor mutual TLS protect the port, and not when tokens do', async () => {
      const open = await startTestService({ ...stores.env, NODE_ENV: 'production' });
      stores.cleanups.push(() => open.stop());
      expect(open.logs.join('')).to.contain('NODE_ENV=production without MFA_AUTH_TOKENS or mutual TLS');
      expect(svc.logs.join('')).to.not.contain('without MFA_AUTH_TOKENS');
    });
  });

  describe('caller authentication', () => {
    it('fails UNAUTHENTICATED with reason UNAUTHENTICATED without a token or with an unknown one', async () => {
      await expectFailure(svc.client.getMfaStatus({ userId: 'alice' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
      const stranger = connectClient(svc.service.port, { metadata: () => bearer('not-a-known-token-at-all') });
      await expectFailure(stranger.getMfaStatus({ userId: 'alice' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
      stranger.close();
    });

    it('serves health checks without a token', async () => {
      expect(await checkHealth(svc.service.port, '')).to.equal('SERVING');
      expect(await checkHealth(svc.service.port, 'mfa.v1.MfaService')).to.equal('SERVING');
    });

    it('returns the x-request-id it was given (or one it made) in the response headers', async () => {
      const client = new MfaServiceClient(`127.0.0.1:${svc.service.port}`, credentials.createInsecure());
      const headersOf = (metadata: Metadata) =>
        new Promise<Metadata>((resolve, reject) => {
          const call = client.getMfaStatus(GetMfaStatusRequest.fromPartial({ userId: 'alice' }), metadata, (error: ServiceError | null) => {
            if (error) reject(error);
          });
          call.on('metadata', resolve);
        });
      const given = bearer(LOGIN_TOKEN);
      given.set('x-request-id', 'req-12345');
      expect((await headersOf(given)).get('x-request-id')).to.deep.equal(['req-12345']);
      expect(String((await headersOf(bearer(LOGIN_TOKEN))).get('x-request-id')[0])).to.match(/^[0-9a-f-]{36}$/);
      client.close();
    });
  });

  describe('admin RPCs and the audit trail', () => {
    it('lets only admin callers reset MFA, which revokes sessions and forgets devices, and records everything', async () => {
      const userId = newUserId('audited');
      const begun = await login.beginTotpEnrollment({ userId });
      await login.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, svc.clock) });
      svc.clock.advance(30_000);
      const remembered = await login.verifyTotp({ userId, code: codeAt(begun.secret, svc.clock), rememberDevice: true });
      await expectFailure(login.verifyTotp({ userId, code: codeAt(begun.secret, svc.clock) }), status.PERMISSION_DENIED, 'CODE_REUSED');

      await expectFailure(login.resetMfa({ userId, reason: 'ticket 42' }), status.PERMISSION_DENIED, 'ADMIN_REQUIRED');
      await expectFailure(login.listAuditEvents({ userId }), status.PERMISSION_DENIED, 'ADMIN_REQUIRED');
      await expectFailure(support.resetMfa({ userId, reason: '' }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');

      const reset = await support.resetMfa({ userId, reason: 'ticket 42: lost phone' });
      expect(reset.sessionsRevokedAt!.getTime()).to.equal(reset.resetAt!.getTime());
      expect((await login.getMfaStatus({ userId })).enabled).to.equal(false);
      expect((await login.checkRememberedDevice({ userId, deviceToken: remembered.deviceToken })).remembered).to.equal(false);
      await expectFailure(support.resetMfa({ userId, reason: 'again' }), status.FAILED_PRECONDITION, 'MFA_NOT_ENABLED');

      // At once, relayed or not: the trail also shows what is still in the user's outbox. A replay is only
      // counted towards the lockout, and beginning an enrollment changes nothing durable: neither is recorded.
      const { events } = await support.listAuditEvents({ userId });
      expect(events.map((e) => `${e.event}/${e.outcome}/${e.caller}/${SecurityEventType[e.type]}`)).to.deep.equal([
        'mfa.reset/success/support-console/SECURITY_EVENT_TYPE_MFA_RESET',
        'device.remembered/success/login-service/SECURITY_EVENT_TYPE_DEVICE_REMEMBERED',
        'enrollment.confirmed/success/login-service/SECURITY_EVENT_TYPE_MFA_ENABLED',
      ]);
      expect(events[0]!.detail).to.equal('ticket 42: lost phone');
      expect(events[0]!.securityEvent).to.deep.include({ reason: 'ticket 42: lost phone', eventId: events[0]!.eventId, cursor: '' });
      for (const e of events) {
        expect(e.userId).to.equal(userId);
        expect(e.requestId).to.match(/^[0-9a-f-]{36}$/);
      }
      const text = JSON.stringify(events);
      expect(text).to.not.contain(begun.secret);
      expect(text).to.not.contain(remembered.deviceToken);
    });

    it('pages newest first with opaque page tokens bound to the user', async () => {
      const userId = newUserId('paged');
      for (let i = 0; i < 5; i += 1) await login.revokeSessions({ userId });
      const first = await support.listAuditEvents({ userId, pageSize: 2 });
      const second = await support.listAuditEvents({ userId, pageSize: 2, pageToken: first.nextPageToken });
      const third = await support.listAuditEvents({ userId, pageSize: 2, pageToken: second.nextPageToken });
      expect([first.events.length, second.events.length, third.events.length]).to.deep.equal([2, 2, 1]);
      expect(third.nextPageToken).to.equal('');
      const ids = [...first.events, ...second.events, ...third.events].map((e) => e.eventId);
      expect(new Set(ids).size).to.equal(5);
      const times = [...first.events, ...second.events, ...third.events].map((e) => e.occurredAt!.getTime());
      expect(times).to.deep.equal([...times].sort((a, b) => b - a));
      const failure = await expectFailure(
        support.listAuditEvents({ userId: newUserId(), pageToken: first.nextPageToken }),
        status.INVALID_ARGUMENT,
        'INVALID_REQUEST',
      );
      expect(failure.badFields).to.deep.equal(['page_token']);
      await expectFailure(support.listAuditEvents({ userId, pageSize: -1 }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
      expect((await support.listAuditEvents({ userId, pageSize: 100_000 })).events).to.have.length(5);
    });
  });

  describe('logs', () => {
    it('writes one line per RPC with method, code, duration, caller and request id, and never a token, secret or code', async () => {
      const userId = newUserId('logged');
      const begun = await login.beginTotpEnrollment({ userId });
      const code = codeAt(begun.secret, svc.clock);
      const confirmed = await login.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
      await login.verifyRecoveryCode({ userId, recoveryCode: confirmed.recoveryCodes[1] });
      const rpcLines = svc.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'rpc' && l['method'] === 'ConfirmTotpEnrollment');
      expect(rpcLines.at(-1)).to.include({ grpcCode: 'OK', caller: 'login-service' });
      expect(rpcLines.at(-1)!['requestId']).to.be.a('string');
      expect(rpcLines.at(-1)!['durationMs']).to.be.a('number');
      const all = svc.logs.join('');
      for (const secret of [LOGIN_TOKEN, SUPPORT_TOKEN, begun.secret, `"${code}"`, ...confirmed.recoveryCodes]) {
        expect(all).to.not.contain(secret);
      }
    });
  });

  describe('metrics', () => {
    it('serves grpc_server_* metrics, MFA counters by outcome, callers and process metrics at /metrics', async () => {
      await login.revokeSessions({ userId: newUserId() });
      await expectFailure(svc.client.getMfaStatus({ userId: 'alice' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
      const userId = newUserId('metered');
      const begun = await login.beginTotpEnrollment({ userId });
      const code = codeAt(begun.secret, svc.clock);
      await login.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
      await expectFailure(login.verifyTotp({ userId, code }), status.PERMISSION_DENIED, 'CODE_REUSED');
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i += 1) await login.verifyTotp({ userId, code: wrong }).catch(() => {});
      await expectFailure(login.verifyTotp({ userId, code: wrong }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');

      const text = await (await fetch(`http://127.0.0.1:${svc.service.metricsPort}/metrics`)).text();
      expect(text).to.contain(
        'grpc_server_handled_total{grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="RevokeSessions",grpc_code="OK"}',
      );
      expect(text).to.contain('grpc_server_handled_total{grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="GetMfaStatus",grpc_code="UNAUTHENTICATED"}');
      expect(text).to.match(/grpc_server_handling_seconds_bucket\{le="0.005",grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="RevokeSessions"\} \d+/);
      expect(text).to.match(/mfa_enrollments_total\{stage="confirmed"\} [1-9]/);
      expect(text).to.match(/mfa_verifications_total\{method="VerifyTotp",outcome="CODE_REUSED"\} [1-9]/);
      expect(text).to.match(/mfa_replays_total [1-9]/);
      expect(text).to.match(/mfa_lockouts_total [1-9]/);
      expect(text).to.match(/mfa_rpcs_by_caller_total\{caller="login-service",grpc_method="ConfirmTotpEnrollment",grpc_code="OK"\} [1-9]/);
      expect(text).to.contain('process_cpu_user_seconds_total');
      expect(text).to.not.contain(LOGIN_TOKEN);
    });
  });

  describe('when Redis goes down and comes back', () => {
    it('reports NOT_SERVING for mfa.v1.MfaService while it is down, and SERVING again without a restart', async function () {
      this.timeout(60_000);
      await stores.redisServer.stop();
      try {
        await eventually(async () => expect(await checkHealth(svc.service.port, 'mfa.v1.MfaService')).to.equal('NOT_SERVING'), 10_000);
        expect(await checkHealth(svc.service.port, '')).to.equal('SERVING');
      } finally {
        await stores.redisServer.restart();
      }
      await eventually(async () => expect(await checkHealth(svc.service.port, 'mfa.v1.MfaService')).to.equal('SERVING'), 20_000);
      await eventually(() => login.getMfaStatus({ userId: 'alice' }), 10_000);
    });
  });

  describe('when MongoDB goes down and comes back', () => {
    it('reports NOT_SERVING for mfa.v1.MfaService while it is down, and SERVING again without a restart', async function () {
      this.timeout(90_000);
      // Through a proxy the test can cut, so that this also runs against an external MONGO_URL
      // (errors.spec stops and restarts the real server).
      const target = new URL(stores.mongoServer.url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 27017));
      const behind = await startTestService({ ...stores.env, MONGO_URL: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true` });
      stores.cleanups.push(async () => {
        await behind.stop();
        await proxy.close();
      });
      await proxy.cut();
      try {
        await eventually(async () => expect(await checkHealth(behind.service.port, 'mfa.v1.MfaService')).to.equal('NOT_SERVING'), 15_000);
        expect(await checkHealth(behind.service.port, '')).to.equal('SERVING');
      } finally {
        await proxy.restore();
      }
      await eventually(async () => expect(await checkHealth(behind.service.port, 'mfa.v1.MfaService')).to.equal('SERVING'), 30_000);
    });
  });

  describe('shutting down', () => {
    it('tells health watchers NOT_SERVING at once', async function () {
      this.timeout(30_000);
      const leaving = await startTestService({ ...stores.env, MFA_SHUTDOWN_GRACE_SECONDS: '2' });
      const watch = watchHealth(leaving.service.port, 'mfa.v1.MfaService');
      await eventually(async () => expect(watch.statuses).to.deep.equal(['SERVING']), 5000);
      const stopping = leaving.stop();
      await eventually(async () => expect(watch.statuses).to.deep.equal(['SERVING', 'NOT_SERVING']), 1000);
      watch.close();
      await stopping;
    });
  });

  /** RevokeSessions writes Redis (paused by the test) and then MongoDB: once Redis resumes, no MongoDB write may follow. */
  const expectNoLaterWrite = async (userId: string) => {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const doc = await stores.mongo.db(stores.mongoDb).collection('mfa_factors').findOne({ _id: userId as never });
    expect(doc, 'a MongoDB write after the call ended').to.equal(null);
  };

  describe('a call the client cancels', () => {
    it('stops its work: no later store write happens', async function () {
      this.timeout(30_000);
      const userId = newUserId('cancelled');
      await stores.redis.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const client = new MfaServiceClient(`127.0.0.1:${svc.service.port}`, credentials.createInsecure());
      const error = await new Promise<ServiceError | null>((resolve) => {
        const call = client.revokeSessions({ userId }, bearer(LOGIN_TOKEN), (e: ServiceError | null) => resolve(e));
        setTimeout(() => call.cancel(), 200);
      });
      client.close();
      expect(error?.code).to.equal(status.CANCELLED);
      await expectNoLaterWrite(userId);
      const ended = svc.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['reason'] === 'CALL_ENDED');
      expect(ended.length).to.be.greaterThan(0);
      expect(ended.every((l) => l['grpcCode'] === 'CANCELLED')).to.equal(true);
    });
  });

  describe('deadlines', () => {
    it('stops the work of a call whose deadline passed: no later store write happens; the log says DEADLINE_EXCEEDED', async function () {
      this.timeout(30_000);
      const userId = newUserId('deadline');
      // Hold Redis for a second: RevokeSessions writes Redis first, then MongoDB.
      await stores.redis.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const client = new MfaServiceClient(`127.0.0.1:${svc.service.port}`, credentials.createInsecure());
      const requestId = `deadline-${userId}`;
      const metadata = bearer(LOGIN_TOKEN);
      metadata.set('x-request-id', requestId);
      const error = await new Promise<ServiceError | null>((resolve) =>
        client.revokeSessions({ userId }, metadata, { deadline: Date.now() + 200 }, (e: ServiceError | null) => resolve(e)),
      );
      client.close();
      expect(error?.code).to.equal(status.DEADLINE_EXCEEDED);
      await expectNoLaterWrite(userId);
      // The client makes its own DEADLINE_EXCEEDED; the server's log line and metrics must agree with it.
      const line = svc.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['requestId'] === requestId);
      expect(line).to.deep.include({ grpcCode: 'DEADLINE_EXCEEDED', reason: 'DEADLINE_EXCEEDED' });
    });
  });
});
