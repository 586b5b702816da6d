import { status, credentials, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaServiceClient } from '../../src/gen/mfa/v1/mfa.js';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { bearer } from '../support/grpc-client.js';
import type { TestService } from '../support/test-service.js';
import { LOGIN_TOKEN, useProductionService } from '../support/production-service.js';

describe('Running it in production: cancelled calls and deadlines (real Redis and MongoDB)', () => {
  // Servers of its own: it pauses every Redis client (CLIENT PAUSE ALL).
  const stores = useRealStores({ private: true });
  const production = useProductionService(stores);
  let svc: TestService;
  before(() => ({ svc } = production));

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
