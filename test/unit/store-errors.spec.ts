import { expect } from 'chai';
import { ReplyError } from 'ioredis';
import { MfaError } from '../../src/domain/errors.js';
import { mongoCall } from '../../src/stores/mongo/mongo-client.js';
import { redisCall } from '../../src/stores/redis/redis-client.js';

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

describe('redisCall', () => {
  const replyError = (message: string): Error => new (ReplyError as new (message: string) => Error)(message);
  const outcome = (error: Error) => redisCall(() => Promise.reject(error)).catch((e: unknown) => e);

  for (const reply of [
    "OOM command not allowed when used memory > 'maxmemory'.",
    "OOM command not allowed when used memory > 'maxmemory'. script: d8f2fad9, on @user_script:1.",
    "READONLY You can't write against a read only replica.",
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.',
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
  ]) {
    it(`turns the error reply "${reply.split(' ')[0]} …" into STORE_UNAVAILABLE, not INTERNAL`, async () => {
      const error = await outcome(replyError(reply));
      expect(error).to.be.instanceOf(MfaError);
      expect((error as MfaError).reason).to.equal('STORE_UNAVAILABLE');
    });
  }

  for (const reply of ['ERR wrong number of arguments', 'WRONGTYPE Operation against a key holding the wrong kind of value', 'BUSYGROUP Consumer Group name already exists']) {
    it(`lets the error reply "${reply.split(' ')[0]} …" through (it ends as INTERNAL)`, async () => {
      expect(await outcome(replyError(reply))).to.not.be.instanceOf(MfaError);
    });
  }

  it('turns a connection error into STORE_UNAVAILABLE', async () => {
    expect(((await outcome(new Error('Connection is closed.'))) as MfaError).reason).to.equal('STORE_UNAVAILABLE');
  });
});
