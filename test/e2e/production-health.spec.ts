import { expect } from 'chai';
import { useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import type { MfaClient } from '../support/grpc-client.js';
import { checkHealth, watchHealth } from '../support/health-client.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { useProductionService } from '../support/production-service.js';

describe('Running it in production: health while a store is down, and at shutdown (real Redis and MongoDB)', () => {
  // Servers of its own: it stops and restarts Redis.
  const stores = useRealStores({ private: true });
  const production = useProductionService(stores);
  let svc: TestService;
  let login: MfaClient;
  before(() => ({ svc, login } = production));

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
});
