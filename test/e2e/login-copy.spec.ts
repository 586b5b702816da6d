import { expect } from 'chai';
import { codeAt, enrollUser, newUserId, useRealStores, type EnrolledUser } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { outcomeOf, type MfaClient } from '../support/grpc-client.js';
import { OffsetClock } from '../support/fake-clock.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * VerifyTotp's Redis copy (LoginCopy) against the interleavings that make a
 * cache serve stale state: a write on another instance that never touches the
 * copy, a slow fill that lands after a write, a copy behind by a spent step,
 * a stalled Redis. Two service instances on one real Redis and one real
 * MongoDB-compatible server; the copy is driven into each bad state through
 * the real stores.
 */
describe('VerifyTotp on its Redis copy never serves stale state (real stores, two instances)', function () {
  this.timeout(120_000);
  // Servers of its own: it pauses Redis (SIGSTOP).
  const stores = useRealStores({ private: true });
  const clock = new OffsetClock();
  let a: TestService;
  let b: TestService;

  before(async () => {
    [a, b] = await Promise.all([startTestService(stores.env, clock), startTestService(stores.env, clock)]);
    stores.cleanups.push(() => a.stop(), () => b.stop());
  });

  afterEach(() => stores.redisServer.signal('SIGCONT'));

  const copyKey = (userId: string) => stores.key(userId, 'totp-copy');
  const copyOf = async (userId: string) => {
    const value = await stores.redis.get(copyKey(userId));
    return value === null ? null : (JSON.parse(value) as [number, [string, string, number][], number]);
  };
  const versionOf = async (userId: string) =>
    ((await stores.mongo.db(stores.mongoDb).collection('mfa_factors').findOne({ _id: userId as never })) as { version?: number } | null)?.version;
  const failuresOf = async (userId: string) => Number((await stores.redis.get(stores.key(userId, 'failures'))) ?? 0);
  const login = (client: MfaClient, userId: string, code: string) => outcomeOf(client.verifyTotp({ userId, code }));

  /** Enrolled on B, logged in once on A: A has taken the copy, at the record's version. */
  async function withCopy(): Promise<EnrolledUser & { copy: string }> {
    const user = await enrollUser(b.client, clock, newUserId('copy'));
    expect(await login(a.client, user.userId, codeAt(user.secret, clock))).to.equal('OK');
    clock.advance(30_000);
    const copy = await copyOf(user.userId);
    expect(copy?.[0], 'the copy is at the record\'s version').to.equal(await versionOf(user.userId));
    return { ...user, copy: (await stores.redis.get(copyKey(user.userId)))! };
  }

  it('takes a copy at the first login, holding the secret sealed only, and logs in on it', async () => {
    const user = await withCopy();
    expect(user.copy).to.not.include(user.secret);
    expect(await login(a.client, user.userId, codeAt(user.secret, clock))).to.equal('OK');
    expect((await a.client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(10);
  });

  it('refuses a code on a copy taken before MFA was turned off on another instance (the copy is never told)', async () => {
    const user = await withCopy();
    await b.client.disableMfa({ userId: user.userId, code: codeAt(user.secret, clock) });
    clock.advance(30_000);
    expect(await stores.redis.get(copyKey(user.userId)), 'the copy is still there, behind').to.equal(user.copy);
    expect(await login(a.client, user.userId, codeAt(user.secret, clock))).to.equal('FAILED_PRECONDITION/MFA_NOT_ENABLED');
  });

  it('refuses the old secret\'s codes when a slow fill puts the old copy back after MFA was turned off and on again', async () => {
    const user = await withCopy();
    await b.client.disableMfa({ userId: user.userId, code: codeAt(user.secret, clock) });
    clock.advance(30_000);
    const again = await enrollUser(b.client, clock, user.userId);
    // A reader that read the record before the writes puts its copy last.
    await stores.redis.set(copyKey(user.userId), user.copy, 'PX', 60_000);
    expect(await login(a.client, user.userId, codeAt(user.secret, clock))).to.equal('PERMISSION_DENIED/INVALID_CODE');
    expect(await failuresOf(user.userId), 'the refused code is counted').to.equal(1);
    expect(await login(a.client, user.userId, codeAt(again.secret, clock))).to.equal('OK');
    expect((await copyOf(user.userId))![0], 'the copy was taken anew').to.equal(await versionOf(user.userId));
  });

  it('accepts an authenticator added on another instance, and refuses it once removed there, counting the refusal', async () => {
    const user = await withCopy();
    const begun = await b.client.beginTotpEnrollment({ userId: user.userId, authenticatorLabel: 'Backup', addAuthenticator: true });
    const added = await b.client.confirmTotpEnrollment({
      userId: user.userId,
      enrollmentId: begun.enrollmentId,
      code: codeAt(begun.secret, clock),
      existingCode: codeAt(user.secret, clock),
    });
    clock.advance(30_000);
    expect((await copyOf(user.userId))![1], 'the copy has one authenticator still').to.have.length(1);
    expect(await login(a.client, user.userId, codeAt(begun.secret, clock))).to.equal('OK');
    expect(await failuresOf(user.userId)).to.equal(0);
    expect((await copyOf(user.userId))![1], 'taken anew, with both').to.have.length(2);
    clock.advance(30_000);
    await b.client.removeAuthenticator({ userId: user.userId, authenticatorId: added.authenticatorId, code: codeAt(user.secret, clock) });
    clock.advance(30_000);
    expect((await copyOf(user.userId))![1], 'the copy still has the removed one').to.have.length(2);
    expect(await login(a.client, user.userId, codeAt(begun.secret, clock))).to.equal('PERMISSION_DENIED/INVALID_CODE');
    expect(await failuresOf(user.userId)).to.equal(1);
  });

  it('uses a copy only at the record\'s version: after a recovery code was used on another instance, the login reads MongoDB and takes it anew', async () => {
    const user = await withCopy();
    await b.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0]! });
    const [behind, , counted] = (await copyOf(user.userId))!;
    expect(counted, 'the copy still counts 10').to.equal(10);
    expect(behind).to.be.below((await versionOf(user.userId))!);
    expect(await login(a.client, user.userId, codeAt(user.secret, clock))).to.equal('OK');
    const [version, , remaining] = (await copyOf(user.userId))!;
    expect(version).to.equal(await versionOf(user.userId));
    expect(remaining).to.equal(9);
  });

  it('reads a copy it cannot parse (a value of another shape) as no copy: the login reads MongoDB and takes it anew', async () => {
    const user = await withCopy();
    for (const garbage of ['not json', '{"v":2}', '[1,"x",3]']) {
      await stores.redis.set(copyKey(user.userId), garbage);
      expect(await login(a.client, user.userId, codeAt(user.secret, clock)), garbage).to.equal('OK');
      expect((await copyOf(user.userId))?.[0], garbage).to.equal(await versionOf(user.userId));
      clock.advance(30_000);
    }
  });

  it('never lets replays on a copy behind by a step clear the lockout count: replays and guesses lock the user', async () => {
    const user = await withCopy();
    const used = codeAt(user.secret, clock);
    expect(await login(a.client, user.userId, used)).to.equal('OK');
    // The copy's last step is behind: it takes the replay for a fresh code, the update refuses it.
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i += 1) outcomes.push(await login(a.client, user.userId, i % 2 === 0 ? used : '000000'));
    expect(outcomes).to.deep.equal([
      'PERMISSION_DENIED/CODE_REUSED',
      'PERMISSION_DENIED/INVALID_CODE',
      'PERMISSION_DENIED/CODE_REUSED',
      'PERMISSION_DENIED/INVALID_CODE',
      'RESOURCE_EXHAUSTED/LOCKED_OUT',
    ]);
    clock.advance(30_000);
    expect(await login(a.client, user.userId, codeAt(user.secret, clock)), 'a right code while locked').to.equal('RESOURCE_EXHAUSTED/LOCKED_OUT');
  });

  it('takes the durable way, and counts, while failures are counted: a right code after a wrong one clears the count', async () => {
    const user = await withCopy();
    expect(await login(a.client, user.userId, '000000')).to.equal('PERMISSION_DENIED/INVALID_CODE');
    expect(await failuresOf(user.userId)).to.equal(1);
    expect(await login(a.client, user.userId, codeAt(user.secret, clock))).to.equal('OK');
    expect(await failuresOf(user.userId)).to.equal(0);
  });

  it('burns no code when Redis stalls (kill -STOP) during a login on the copy', async () => {
    const user = await withCopy();
    const code = codeAt(user.secret, clock);
    stores.redisServer.signal('SIGSTOP');
    let outcome: string;
    try {
      outcome = await login(a.client, user.userId, code);
    } finally {
      stores.redisServer.signal('SIGCONT');
    }
    expect(outcome).to.equal('UNAVAILABLE/STORE_UNAVAILABLE');
    await eventually(async () => expect(await stores.redis.ping()).to.equal('PONG'), 5_000);
    expect(await login(a.client, user.userId, code)).to.equal('OK');
    expect(await login(a.client, user.userId, code)).to.equal('PERMISSION_DENIED/CODE_REUSED');
  });

  it('reads MongoDB on every login with MFA_TOTP_COPY_SECONDS=0, and takes no copy', async () => {
    const off = await startTestService({ ...stores.env, MFA_TOTP_COPY_SECONDS: '0' }, clock);
    stores.cleanups.push(() => off.stop());
    const user = await enrollUser(off.client, clock, newUserId('nocopy'));
    expect(await login(off.client, user.userId, codeAt(user.secret, clock))).to.equal('OK');
    expect(await stores.redis.exists(copyKey(user.userId))).to.equal(0);
  });
});
