import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { createMfaClient, MfaClientError, type MfaClient } from '../../src/client/index.js';
import { startTestService, type TestService } from '../support/test-service.js';

// The Errors table in docs/ lists this limit and what a caller sees past it.
describe('A request over 4 MiB (grpc-js\'s default receive limit; embedded stores)', () => {
  let svc: TestService;
  let mfa: MfaClient;

  before(async () => {
    svc = await startTestService({});
    mfa = createMfaClient({ address: `127.0.0.1:${svc.service.port}` });
  });

  after(async () => {
    mfa.close();
    await svc.stop();
  });

  it('fails RESOURCE_EXHAUSTED with grpc-js\'s message and no reason, before any handler runs', async () => {
    const error = await mfa.getMfaStatus({ userId: 'x'.repeat(4 * 1024 * 1024) }, { deadlineMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(MfaClientError);
    const failure = error as MfaClientError;
    expect(failure.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(failure.message).to.match(/^Received message larger than max \(\d+ vs 4194304\)$/);
    expect(failure.reason).to.equal(null);
  });
});
