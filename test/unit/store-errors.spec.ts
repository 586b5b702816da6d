import { expect } from 'chai';
import { MfaError } from '../../src/domain/errors.js';
import { mongoCall } from '../../src/stores/mongo/mongo-client.js';

class DriverPoolError extends Error {
  constructor(private readonly driverName: string) {
    super('pool trouble');
  }
  override get name(): string {
    return this.driverName;
  }
}

describe('mongoCall', () => {
  for (const name of ['MongoWaitQueueTimeoutError', 'MongoPoolClosedError']) {
    it(`turns the driver's unexported ${name} into STORE_UNAVAILABLE, not INTERNAL`, async () => {
      const error = await mongoCall(() => Promise.reject(new DriverPoolError(name))).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(MfaError);
      expect((error as MfaError).reason).to.equal('STORE_UNAVAILABLE');
    });
  }

  it('lets any other error through (it ends as INTERNAL)', async () => {
    const error = await mongoCall(() => Promise.reject(new Error('a bug'))).catch((e: unknown) => e);
    expect(error).to.not.be.instanceOf(MfaError);
  });
});
