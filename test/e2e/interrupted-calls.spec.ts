import { expect } from 'chai';
import { codeAt, enrollUser, newUserId, type EnrolledUser } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { connectClient, outcomeOf } from '../support/grpc-client.js';
import { STORE_COMMANDS, useProxiedService } from '../support/proxied-service.js';
import { startTestService } from '../support/test-service.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const { confirmScript, attemptScript, mongoUpdate, mongoFindAndModify } = STORE_COMMANDS;

describe('Interrupted calls lose nothing (real stores behind delaying proxies)', function () {
  this.timeout(120_000);
  // Servers of its own: it pauses Redis (SIGSTOP) and cuts connections through TCP proxies.
  const proxied = useProxiedService({ MFA_ENROLLMENT_TTL_SECONDS: '300' });
  const { stores, hold, rpcEnds } = proxied;

  const enroll = () => enrollUser(proxied.client, proxied.service.clock);

  /** On FerretDB the per-user write lock is taken around each durable write; on MongoDB there is none. */
  const onFerretDb = () => stores.mongoServer.kind.startsWith('ferretdb');
  const lockKeyOf = (userId: string) => stores.key(userId, 'write-lock');

  it('releases the per-user write lock as soon as a write cut off by the call\'s deadline ends', async () => {
    const user = await enroll();
    const update = hold(proxied.mongoProxy, mongoUpdate, user.userId);
    const revoking = outcomeOf(proxied.hasty.revokeSessions({ userId: user.userId }));
    await update.arrived;
    // The lock is taken before the write goes out, and held while the write is.
    if (onFerretDb()) await eventually(async () => expect(await stores.redis.pttl(lockKeyOf(user.userId))).to.be.greaterThan(0), 2_000);
    expect(await revoking).to.equal('DEADLINE_EXCEEDED');
    await update.release();
    await eventually(async () => expect(await stores.redis.pttl(lockKeyOf(user.userId))).to.equal(-2), 2_000);
    await proxied.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, proxied.service.clock) });
  });

  it('keeps the write lock (FerretDB) while a write the service gave up on may still land', async function () {
    if (!onFerretDb()) {
      // Nothing to hold on MongoDB: single-document updates are atomic there, and no lock is taken.
      expect(await stores.redis.exists(lockKeyOf('anyone'))).to.equal(0);
      return;
    }
    const user = await enroll();
    // A slow store, not a choreography: held back past MFA_STORE_TIMEOUT_MS (2 s), the write is answered
    // UNAVAILABLE by the service, and FerretDB applies it later.
    proxied.mongoProxy.delay(2_600, mongoFindAndModify);
    expect(await outcomeOf(proxied.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] }))).to.equal(
      'UNAVAILABLE/STORE_UNAVAILABLE',
    );
    proxied.mongoProxy.delay(0);
    expect(await stores.redis.pttl(lockKeyOf(user.userId))).to.be.greaterThan(0);
    // Another write of the user waits rather than runs beside the one that may still land.
    expect(await outcomeOf(proxied.client.revokeSessions({ userId: user.userId }))).to.equal('UNAVAILABLE/STORE_UNAVAILABLE');
  });

  it('keeps the enrollment when Confirm is cut off while recording its outcome; the retry finishes it', async () => {
    const userId = newUserId();
    const begun = await proxied.client.beginTotpEnrollment({ userId });
    const code = codeAt(begun.secret, proxied.service.clock);
    const script = hold(proxied.redisProxy, confirmScript, userId);
    const ended = rpcEnds('ConfirmTotpEnrollment');
    expect(await outcomeOf(proxied.hasty.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code }))).to.equal('DEADLINE_EXCEEDED');
    await script.release();
    await ended();
    const retried = await proxied.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
    expect((await proxied.client.getMfaStatus({ userId })).enabled).to.equal(true);
    const used = await proxied.client.verifyRecoveryCode({ userId, recoveryCode: retried.recoveryCodes[0] });
    expect(used.recoveryCodesRemaining).to.equal(9);
  });

  it('answers a Confirm retried after a cut-off durable write with the outcome that write stored', async () => {
    const userId = newUserId();
    const begun = await proxied.client.beginTotpEnrollment({ userId });
    const code = codeAt(begun.secret, proxied.service.clock);
    const update = hold(proxied.mongoProxy, mongoUpdate, userId);
    const ended = rpcEnds('ConfirmTotpEnrollment');
    expect(await outcomeOf(proxied.hasty.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code }))).to.equal('DEADLINE_EXCEEDED');
    await update.release();
    await ended();
    const first = await proxied.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
    const again = await proxied.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
    expect(again.recoveryCodes).to.deep.equal(first.recoveryCodes);
    expect(again.enabledAt!.getTime()).to.equal(first.enabledAt!.getTime());
    await proxied.client.verifyRecoveryCode({ userId, recoveryCode: first.recoveryCodes[9] });
  });

  it('never answers Begin OK while a Confirm is turning MFA on (Begin racing Confirm)', async () => {
    const userId = newUserId();
    const begun = await proxied.client.beginTotpEnrollment({ userId });
    // Hold Confirm's durable write back, and Begin again while it is in flight: Begin reads MFA as off.
    const update = hold(proxied.mongoProxy, mongoUpdate, userId);
    const confirming = proxied.client.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, proxied.service.clock) });
    await update.arrived;
    // Begin's first Redis command (placing its pending enrollment) goes through before Confirm's write lands.
    const put = hold(proxied.redisProxy, () => true, userId);
    const beginning = outcomeOf(proxied.client.beginTotpEnrollment({ userId }));
    await put.arrived;
    await put.release();
    await update.release();
    expect(await beginning).to.equal('ALREADY_EXISTS/MFA_ALREADY_ENABLED');
    await confirming;
    const status = await proxied.client.getMfaStatus({ userId });
    expect(status.enabled).to.equal(true);
    // No enrollment is left pending that could never be confirmed.
    expect(status.pendingEnrollmentExpiresAt).to.equal(undefined);
  });

  it('keeps a recovery code usable when the call is cut off before its durable spend', async () => {
    const user = await enroll();
    const script = hold(proxied.redisProxy, attemptScript, user.userId);
    const ended = rpcEnds('VerifyRecoveryCode');
    expect(await outcomeOf(proxied.hasty.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] }))).to.equal('DEADLINE_EXCEEDED');
    await script.release();
    await ended();
    expect((await proxied.client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(10);
    const used = await proxied.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] });
    expect(used.recoveryCodesRemaining).to.equal(9);
  });

  it('counts a recovery code as spent when its cut-off durable spend committed, and says so consistently', async () => {
    const user = await enroll();
    const spend = hold(proxied.mongoProxy, mongoFindAndModify, user.userId);
    const ended = rpcEnds('VerifyRecoveryCode');
    expect(await outcomeOf(proxied.hasty.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] }))).to.equal('DEADLINE_EXCEEDED');
    await spend.release();
    await ended();
    expect((await proxied.client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(9);
    expect(await outcomeOf(proxied.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] }))).to.equal('PERMISSION_DENIED/INVALID_CODE');
  });

  it('burns no code while Redis is stalled (kill -STOP): each one that failed UNAVAILABLE works once Redis is back', async () => {
    const user = await enroll();
    const code = codeAt(user.secret, proxied.service.clock);
    stores.redisServer.signal('SIGSTOP');
    let outcomes: string[];
    try {
      outcomes = await Promise.all([
        ...user.recoveryCodes.slice(0, 4).map((recoveryCode) => outcomeOf(proxied.client.verifyRecoveryCode({ userId: user.userId, recoveryCode }))),
        outcomeOf(proxied.client.verifyTotp({ userId: user.userId, code })),
      ]);
    } finally {
      stores.redisServer.signal('SIGCONT');
    }
    expect(outcomes).to.deep.equal(Array(5).fill('UNAVAILABLE/STORE_UNAVAILABLE'));
    await eventually(async () => expect(await stores.redis.ping()).to.equal('PONG'), 5_000);
    for (const recoveryCode of user.recoveryCodes.slice(0, 4)) await proxied.client.verifyRecoveryCode({ userId: user.userId, recoveryCode });
    await proxied.client.verifyTotp({ userId: user.userId, code });
    expect((await proxied.client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(6);
  });

  it('under random stalls, delays and deadlines, spends a recovery code if and only if a call for it succeeded or ended without an answer', async function () {
    this.timeout(180_000);
    // Generous lockout: the final check of each code must not be refused as a lockout.
    const lenient = await startTestService({
      ...stores.env,
      REDIS_URL: `redis://127.0.0.1:${proxied.redisProxy.port}`,
      MONGO_URL: `mongodb://127.0.0.1:${proxied.mongoProxy.port}/`,
      MFA_MAX_FAILED_ATTEMPTS: '100',
    });
    stores.cleanups.push(() => lenient.stop());
    let seed = 0x5eed;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const users: EnrolledUser[] = [];
    for (let i = 0; i < 4; i += 1) {
      users.push(await enrollUser(lenient.client, lenient.clock, newUserId('fault'), { advanceClock: false }));
    }
    const clients = [200, 500, 1500, 4000].map((deadlineMs) => connectClient(lenient.service.port, { deadlineMs }));
    const outcomes = new Map<string, string[]>();
    const calls: Promise<void>[] = [];
    const started = Date.now();
    // Faults: Redis stalls and MongoDB writes held back, switched at random for ~6 s.
    const faults = (async () => {
      while (Date.now() - started < 6_000) {
        const pick = random();
        if (pick < 0.3) stores.redisServer.signal('SIGSTOP');
        else if (pick < 0.6) proxied.mongoProxy.delay(Math.floor(random() * 1200), mongoFindAndModify);
        await sleep(200 + random() * 800);
        stores.redisServer.signal('SIGCONT');
        proxied.mongoProxy.delay(0);
        await sleep(random() * 400);
      }
    })();
    for (const user of users) {
      for (const recoveryCode of user.recoveryCodes) {
        const key = `${user.userId}/${recoveryCode}`;
        outcomes.set(key, []);
        for (let attempt = 0; attempt < 1 + Math.floor(random() * 3); attempt += 1) {
          const at = random() * 6_000;
          const caller = clients[Math.floor(random() * clients.length)]!;
          calls.push(
            sleep(at).then(async () => {
              outcomes.get(key)!.push(await outcomeOf(caller.verifyRecoveryCode({ userId: user.userId, recoveryCode })));
            }),
          );
        }
      }
    }
    await Promise.all([faults, ...calls]);
    stores.redisServer.signal('SIGCONT');
    proxied.mongoProxy.delay(0);
    await sleep(2_500); // writes held back by the proxy reach MongoDB
    for (const c of clients) c.close();

    const definiteFailures = new Set(['PERMISSION_DENIED/INVALID_CODE', 'RESOURCE_EXHAUSTED/LOCKED_OUT']);
    let spentCount = 0;
    for (const user of users) {
      let remaining = 10;
      for (const recoveryCode of user.recoveryCodes) {
        const seen = outcomes.get(`${user.userId}/${recoveryCode}`)!;
        const final = await outcomeOf(lenient.client.verifyRecoveryCode({ userId: user.userId, recoveryCode }));
        expect(final, `final check of a code after ${seen.join(', ')}`).to.be.oneOf(['OK', 'PERMISSION_DENIED/INVALID_CODE']);
        const spent = final !== 'OK';
        remaining -= 1;
        if (spent) spentCount += 1;
        if (seen.includes('OK')) expect(spent, `a code whose call answered OK (${seen.join(', ')}) must be spent`).to.equal(true);
        if (spent) {
          const undecided = seen.filter((o) => o === 'OK' || !definiteFailures.has(o));
          expect(undecided, `a spent code needs a call that answered OK or ended without an answer (${seen.join(', ')})`).to.not.be.empty;
        }
      }
      expect((await lenient.client.getMfaStatus({ userId: user.userId })).recoveryCodesRemaining).to.equal(remaining);
    }
    // The run must have exercised both sides.
    expect(spentCount).to.be.greaterThan(0).and.lessThan(40);
  });
});
