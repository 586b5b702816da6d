import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { newUserId, useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { startServiceProcess } from '../support/service-process.js';

describe('Graceful shutdown (a service process on real Redis and MongoDB)', function () {
  this.timeout(60_000);
  // It pauses Redis's writes (CLIENT PAUSE): servers of its own, so no other file stalls.
  const stores = useRealStores({ private: true });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}, lets the in-flight call finish, takes no new calls, and exits 0`, async () => {
      const service = await startServiceProcess(stores.env);
      // Hold Redis so that a call is in flight when the signal arrives.
      await stores.redis.call('CLIENT', 'PAUSE', '800', 'WRITE');
      const inFlight = service.client.beginTotpEnrollment({ userId: newUserId() });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = service.signal(signal);
      // Once the process has taken the signal (a loaded machine may take a while), it takes no new calls.
      await eventually(async () => expect(service.output()).to.contain('"msg":"shutting down"'), 10_000);
      const late = service.client.getMfaStatus({ userId: newUserId() }).then(
        () => null,
        (error: ServiceError) => error.code,
      );
      expect((await inFlight).otpauthUri).to.match(/^otpauth:/);
      expect(await late).to.equal(status.UNAVAILABLE);
      expect(await exited).to.equal(0);
      expect(service.output()).to.contain('"msg":"stopped"');
      await service.stop();
    });
  }
});
