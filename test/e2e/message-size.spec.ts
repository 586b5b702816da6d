import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaClientError } from '../../src/client/index.js';
import { useMemoryService, usePublicClient } from '../support/e2e-fixture.js';

// The Errors table in docs/ lists this limit and what a caller sees past it.
describe('A request over 4 MiB (grpc-js\'s default receive limit; embedded stores)', () => {
  const service = useMemoryService();
  const client = usePublicClient(service);

  it('fails RESOURCE_EXHAUSTED with grpc-js\'s message and no reason, before any handler runs', async () => {
    const error = await client.current.getMfaStatus({ userId: 'x'.repeat(4 * 1024 * 1024) }, { deadlineMs: 10_000 }).catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(MfaClientError);
    const failure = error as MfaClientError;
    expect(failure.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(failure.message).to.match(/^Received message larger than max \(\d+ vs 4194304\)$/);
    expect(failure.reason).to.equal(null);
  });
});
