import { Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { startRedisCluster, type TestRedisCluster } from '../../dev/redis-cluster.js';
import { codeAt, enrollUser, newUserId, useRealStores, useService, type RealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { bearer, decodeFailure } from '../support/grpc-client.js';
import { decodePng } from '../support/qr-decode.js';
import { startServiceProcess } from '../support/service-process.js';
import { openStalledWatch } from '../support/stalled-stream.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { watchEnrollment, type StreamEnd } from '../support/watch-client.js';

/** The id of the user's pending enrollment in Redis, or null when there is none. */
async function pendingIdInRedis(stores: RealStores, userId: string): Promise<string | null> {
  const value = await stores.redis.get(stores.key(userId, 'enrollment'));
  return value === null ? null : (JSON.parse(value) as { i: string }).i;
}

/** Every pending enrollment id Redis holds for the user over `ms` (read every 50 ms). */
async function pendingIdsDuring(stores: RealStores, userId: string, ms: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 50))) {
    const id = await pendingIdInRedis(stores, userId);
    if (id !== null) seen.add(id);
  }
  return seen;
}

/** The one log line of the stream with this request id. */
function streamLogLine(svc: TestService, requestId: string): Record<string, unknown> | undefined {
  const lines = svc.logs.filter((line) => line.includes(`"requestId":"${requestId}"`) && line.includes('"msg":"rpc"'));
  expect(lines.length, 'log lines of the stream').to.be.at.most(1);
  return lines[0] === undefined ? undefined : (JSON.parse(lines[0]) as Record<string, unknown>);
}

function withRequestId(requestId: string, metadata = new Metadata()): Metadata {
  metadata.set('x-request-id', requestId);
  return metadata;
}

const failureOf = (end: StreamEnd) => {
  expect(end.error, `the stream ended ${status[end.code]}`).to.not.equal(null);
  return decodeFailure(end.error!);
};

describe('WatchTotpEnrollment (gRPC, real Redis and MongoDB)', function () {
  this.timeout(60_000);
  // Servers of its own: it stops and restarts Redis.
  const stores = useRealStores({ private: true });

  describe('with a 1 s enrollment TTL', () => {
    const svc = useService(stores, { MFA_ENROLLMENT_TTL_SECONDS: '1' });

    it('sends an enrollment at once, a fresh one each time it expires (new secret, QR codes and id, replacing the pending one), then expired, and ends OK', async () => {
      const userId = newUserId('refreshed');
      const watch = watchEnrollment(svc.current.service.port, { userId, maxRefreshes: 2 }, { metadata: withRequestId(`refresh-${userId}`) });
      const enrollments = [];
      for (let i = 0; i < 3; i += 1) {
        const { enrollment, confirmed, expired } = await watch.next();
        expect({ confirmed, expired }).to.deep.equal({ confirmed: undefined, expired: undefined });
        expect(await pendingIdInRedis(stores, userId)).to.equal(enrollment!.enrollmentId);
        expect(decodePng(enrollment!.qrCodePng)).to.equal(enrollment!.otpauthUri);
        enrollments.push(enrollment!);
      }
      expect(await watch.next()).to.deep.equal({ enrollment: undefined, confirmed: undefined, expired: {} });
      expect((await watch.ended).code).to.equal(status.OK);
      watch.close();

      for (const field of ['enrollmentId', 'secret', 'otpauthUri', 'authenticatorId'] as const) {
        expect(new Set(enrollments.map((e) => e[field])).size, field).to.equal(3);
      }
      expect((await svc.current.client.getMfaStatus({ userId })).pendingEnrollmentExpiresAt).to.equal(undefined);
      expect(streamLogLine(svc.current, `refresh-${userId}`)).to.deep.include({ method: 'WatchTotpEnrollment', grpcCode: 'OK', outcome: 'expired', messages: 4 });
    });

    it('stops refreshing when the client cancels: no new pending enrollment appears afterwards', async () => {
      const userId = newUserId('cancelled');
      const watch = watchEnrollment(svc.current.service.port, { userId, maxRefreshes: 60 }, { metadata: withRequestId(`cancel-${userId}`) });
      const { enrollment } = await watch.next();
      watch.cancel();
      expect((await watch.ended).code).to.equal(status.CANCELLED);
      watch.close();
      // Three TTLs: a stream still refreshing would have put three more enrollments.
      const seen = await pendingIdsDuring(stores, userId, 3000);
      expect([...seen].filter((id) => id !== enrollment!.enrollmentId)).to.deep.equal([]);
      expect(await pendingIdInRedis(stores, userId)).to.equal(null);
      expect((await svc.current.client.getMfaStatus({ userId })).pendingEnrollmentExpiresAt).to.equal(undefined);
      expect(streamLogLine(svc.current, `cancel-${userId}`)).to.deep.include({ grpcCode: 'CANCELLED', messages: 1 });
    });

    it('makes nothing new for a client that does not read: one enrollment is begun, none sent in full, until it goes', async () => {
      const userId = newUserId('stalled');
      const requestId = `stalled-${userId}`;
      const stalled = openStalledWatch(svc.current.service.port, { userId, maxRefreshes: 60 }, requestId);
      // The first enrollment is begun at once; a server that went on would put one per TTL.
      const seen = await pendingIdsDuring(stores, userId, 3500);
      expect(seen.size).to.equal(1);
      expect(await pendingIdInRedis(stores, userId)).to.equal(null);
      expect(streamLogLine(svc.current, requestId), 'the stream is still open').to.equal(undefined);
      await stalled.close();
      const line = await eventually(async () => streamLogLine(svc.current, requestId) ?? Promise.reject(new Error('not ended yet')), 5000);
      expect(line).to.deep.include({ grpcCode: 'CANCELLED', messages: 0 });
    });
  });

  describe('two instances on the same stores', () => {
    const a = useService(stores);
    const b = useService(stores);

    it('sends confirmed when the enrollment is confirmed on the other instance, long before it would expire, and ends OK', async () => {
      const userId = newUserId('confirmed');
      const watch = watchEnrollment(a.current.service.port, { userId });
      const { enrollment } = await watch.next();
      const confirmed = await b.current.client.confirmTotpEnrollment({ userId, enrollmentId: enrollment!.enrollmentId, code: codeAt(enrollment!.secret, b.current.clock) });
      const message = await watch.next();
      // Woken by the notice from the other instance, not by its expiry timer (60 s).
      expect(Date.now()).to.be.below(enrollment!.expiresAt!.getTime() - 30_000);
      expect(message.confirmed).to.deep.equal({ authenticatorId: enrollment!.authenticatorId, enabledAt: confirmed.enabledAt });
      expect((await watch.ended).code).to.equal(status.OK);
      watch.close();
    });

    it('sends confirmed for an added authenticator, with the enabled_at of the first', async () => {
      const user = await enrollUser(b.current.client, b.current.clock);
      a.current.clock.offsetMs = b.current.clock.offsetMs;
      const enabledAt = (await b.current.client.getMfaStatus({ userId: user.userId })).enabledAt;
      const watch = watchEnrollment(a.current.service.port, { userId: user.userId, addAuthenticator: true, authenticatorLabel: 'Backup phone' });
      const { enrollment } = await watch.next();
      await b.current.client.confirmTotpEnrollment({
        userId: user.userId,
        enrollmentId: enrollment!.enrollmentId,
        code: codeAt(enrollment!.secret, b.current.clock),
        existingCode: codeAt(user.secret, b.current.clock),
      });
      expect((await watch.next()).confirmed).to.deep.equal({ authenticatorId: enrollment!.authenticatorId, enabledAt });
      expect((await a.current.client.listAuthenticators({ userId: user.userId })).authenticators.map((x) => x.label)).to.deep.equal(['Authenticator app', 'Backup phone']);
      watch.close();
    });
  });

  describe("the stream's log line and metrics", () => {
    const svc = useService(stores, { METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
    const series = async (name: string) => {
      const text = await (await fetch(`http://127.0.0.1:${svc.current.service.metricsPort}/metrics`)).text();
      return Number(text.split('\n').find((line) => line.startsWith(`${name} `))?.split(' ')[1] ?? 0);
    };
    const LABELS = 'grpc_type="server_stream",grpc_service="mfa.v1.MfaService",grpc_method="WatchTotpEnrollment"';

    it('ends DEADLINE_EXCEEDED when the deadline passes while it waits, and its log line says so', async () => {
      const userId = newUserId('deadline');
      const watch = watchEnrollment(svc.current.service.port, { userId }, { deadlineMs: 1500, metadata: withRequestId(`deadline-${userId}`) });
      const { enrollment } = await watch.next();
      expect((await watch.ended).code).to.equal(status.DEADLINE_EXCEEDED);
      watch.close();
      const line = await eventually(async () => streamLogLine(svc.current, `deadline-${userId}`) ?? Promise.reject(new Error('not logged yet')), 5000);
      expect(line).to.deep.include({ grpcCode: 'DEADLINE_EXCEEDED', reason: 'DEADLINE_EXCEEDED', outcome: 'ended', messages: 1 });
      expect(await pendingIdInRedis(stores, userId)).to.equal(enrollment!.enrollmentId);
    });

    it('counts open streams, messages sent, enrollments begun and streams handled, by gRPC code', async () => {
      const before = {
        handled: await series(`grpc_server_handled_total{${LABELS},grpc_code="OK"}`),
        sent: await series(`grpc_server_msg_sent_total{${LABELS}}`),
        begun: await series('mfa_enrollments_total{stage="begun"}'),
      };
      const userId = newUserId('metered');
      const watch = watchEnrollment(svc.current.service.port, { userId });
      const { enrollment } = await watch.next();
      expect(await series('mfa_open_streams{grpc_method="WatchTotpEnrollment"}')).to.equal(1);
      await svc.current.client.confirmTotpEnrollment({ userId, enrollmentId: enrollment!.enrollmentId, code: codeAt(enrollment!.secret, svc.current.clock) });
      expect((await watch.next()).confirmed).to.not.equal(undefined);
      expect((await watch.ended).code).to.equal(status.OK);
      watch.close();
      await eventually(async () => expect(await series('mfa_open_streams{grpc_method="WatchTotpEnrollment"}')).to.equal(0), 5000);
      expect(await series(`grpc_server_handled_total{${LABELS},grpc_code="OK"}`)).to.equal(before.handled + 1);
      expect(await series(`grpc_server_msg_sent_total{${LABELS}}`)).to.equal(before.sent + 2);
      // The confirmation is ConfirmTotpEnrollment's to count; the stream counts the enrollment it began.
      expect(await series('mfa_enrollments_total{stage="begun"}')).to.equal(before.begun + 1);
    });
  });

  describe('errors before the first message', () => {
    const svc = useService(stores);

    it('fails INVALID_ARGUMENT with reason INVALID_REQUEST and a BadRequest naming max_refreshes above 60', async () => {
      const watch = watchEnrollment(svc.current.service.port, { userId: newUserId(), maxRefreshes: 61 });
      const failure = failureOf(await watch.ended);
      expect({ code: status[failure.code], reason: failure.reason, badFields: failure.badFields }).to.deep.equal({
        code: 'INVALID_ARGUMENT',
        reason: 'INVALID_REQUEST',
        badFields: ['max_refreshes'],
      });
      expect(failure.message).to.contain('max_refreshes');
      expect(watch.messages).to.deep.equal([]);
      watch.close();
    });

    it("fails like BeginTotpEnrollment: ALREADY_EXISTS with reason MFA_ALREADY_ENABLED when MFA is on, and FAILED_PRECONDITION adding to a user without MFA", async () => {
      const user = await enrollUser(svc.current.client, svc.current.clock);
      const on = watchEnrollment(svc.current.service.port, { userId: user.userId });
      const off = watchEnrollment(svc.current.service.port, { userId: newUserId(), addAuthenticator: true });
      expect(failureOf(await on.ended)).to.deep.include({ code: status.ALREADY_EXISTS, reason: 'MFA_ALREADY_ENABLED', domain: 'mfa.v1' });
      expect(failureOf(await off.ended)).to.deep.include({ code: status.FAILED_PRECONDITION, reason: 'MFA_NOT_ENABLED' });
      on.close();
      off.close();
    });

    it('fails UNAUTHENTICATED without a bearer token when MFA_AUTH_TOKENS is set, and streams with one', async () => {
      const token = 'watch-token-0123456789abcdef';
      const guarded = await startTestService({ ...stores.env, MFA_AUTH_TOKENS: `settings-page:${token}` });
      stores.cleanups.push(() => guarded.stop());
      const userId = newUserId('guarded');
      const anonymous = watchEnrollment(guarded.service.port, { userId });
      expect(failureOf(await anonymous.ended)).to.deep.include({ code: status.UNAUTHENTICATED, reason: 'UNAUTHENTICATED' });
      expect(await pendingIdInRedis(stores, userId)).to.equal(null);
      const known = watchEnrollment(guarded.service.port, { userId }, { metadata: bearer(token) });
      expect((await known.next()).enrollment!.otpauthUri).to.match(/^otpauth:/);
      known.cancel();
      anonymous.close();
      known.close();
    });
  });

  describe('at most MFA_MAX_WATCH_STREAMS open streams per instance', () => {
    const svc = useService(stores, { MFA_MAX_WATCH_STREAMS: '2' });

    it('fails RESOURCE_EXHAUSTED with reason STREAM_LIMIT beyond the cap, and takes a stream again once one ends', async () => {
      const port = svc.current.service.port;
      const open = [watchEnrollment(port, { userId: newUserId() }), watchEnrollment(port, { userId: newUserId() })];
      for (const watch of open) await watch.next();
      const refused = watchEnrollment(port, { userId: newUserId('refused') });
      expect(failureOf(await refused.ended)).to.deep.include({ code: status.RESOURCE_EXHAUSTED, reason: 'STREAM_LIMIT' });
      // Unary calls are not streams: they go on.
      expect((await svc.current.client.getMfaStatus({ userId: newUserId() })).enabled).to.equal(false);

      open[0]!.cancel();
      const taken = await eventually(async () => {
        const again = watchEnrollment(port, { userId: newUserId('again') });
        try {
          return (await again.next()).enrollment;
        } finally {
          again.cancel();
          again.close();
        }
      }, 5000);
      expect(taken!.enrollmentId).to.match(/^enr_/);
      open[1]!.cancel();
      for (const watch of [...open, refused]) watch.close();
    });
  });

  describe('when the instance gets SIGTERM with streams open (a service process)', () => {
    it('ends each stream UNAVAILABLE with reason SHUTTING_DOWN, well within the grace period, and exits 0', async function () {
      // A grace period longer than this test may take: streams cut off at its end would fail the test by its timeout.
      this.timeout(30_000);
      const service = await startServiceProcess({ ...stores.env, MFA_SHUTDOWN_GRACE_SECONDS: '120' });
      const watches = [watchEnrollment(service.port, { userId: newUserId() }), watchEnrollment(service.port, { userId: newUserId() })];
      for (const watch of watches) await watch.next();
      const exited = service.signal('SIGTERM');
      for (const watch of watches) {
        // The reason is in the trailers the server wrote: the stream was ended, not its connection cut.
        expect(failureOf(await watch.ended)).to.deep.include({ code: status.UNAVAILABLE, reason: 'SHUTTING_DOWN' });
        watch.close();
      }
      expect(await exited).to.equal(0);
      expect(service.output().match(/"reason":"SHUTTING_DOWN"/g)).to.have.length(2);
      await service.stop();
    });
  });

  describe('when Redis goes down mid-stream', () => {
    const svc = useService(stores, { MFA_ENROLLMENT_TTL_SECONDS: '1' });

    it('ends the stream UNAVAILABLE with reason STORE_UNAVAILABLE', async () => {
      const watch = watchEnrollment(svc.current.service.port, { userId: newUserId('outage'), maxRefreshes: 60 });
      await watch.next();
      await stores.redisServer.stop();
      try {
        expect(failureOf(await watch.ended)).to.deep.include({ code: status.UNAVAILABLE, reason: 'STORE_UNAVAILABLE' });
      } finally {
        await stores.redisServer.restart();
        watch.close();
      }
      // Serving again once Redis is back.
      await eventually(() => svc.current.client.beginTotpEnrollment({ userId: newUserId() }), 20_000);
    });
  });
});

describe('WatchTotpEnrollment over Redis Cluster (sharded pub/sub, two instances)', function () {
  this.timeout(60_000);
  let cluster: TestRedisCluster | undefined;
  let mongo: TestMongo | undefined;
  let a: TestService | undefined;
  let b: TestService | undefined;

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    [cluster, mongo] = await Promise.all([startRedisCluster(), startMongoServer()]);
    const env = { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', MONGO_URL: mongo.url, MONGO_DB: `mfa_watch_cluster_${process.pid}` };
    [a, b] = await Promise.all([startTestService(env), startTestService(env)]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await Promise.all([cluster?.stop(), mongo?.stop()]);
  });

  it('sends confirmed on one instance for enrollments confirmed on the other, whichever shard their users hash to', async () => {
    // Six users: their channels spread over the three masters.
    const userIds = Array.from({ length: 6 }, () => newUserId('sharded'));
    const watches = userIds.map((userId) => watchEnrollment(a!.service.port, { userId }));
    const enrollments = await Promise.all(watches.map(async (watch) => (await watch.next()).enrollment!));
    await Promise.all(
      userIds.map((userId, i) =>
        b!.client.confirmTotpEnrollment({ userId, enrollmentId: enrollments[i]!.enrollmentId, code: codeAt(enrollments[i]!.secret, b!.clock) }),
      ),
    );
    for (const [i, watch] of watches.entries()) {
      expect((await watch.next()).confirmed?.authenticatorId).to.equal(enrollments[i]!.authenticatorId);
      expect((await watch.ended).code).to.equal(status.OK);
      watch.close();
    }
    // Woken by the notices, not by the expiry timers (60 s).
    expect(Date.now()).to.be.below(Math.min(...enrollments.map((e) => e.expiresAt!.getTime())) - 30_000);
  });
});
