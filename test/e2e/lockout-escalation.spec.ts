import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { codeAt, enrollUser, useRealStores, useService, type EnrolledUser, type RealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import type { OffsetClock } from '../support/fake-clock.js';
import { decodeFailure, expectFailure } from '../support/grpc-client.js';
import { loggedEvents } from '../support/security-event-stream.js';
import { startTestService, type TestService } from '../support/test-service.js';

// Issue 22's small settings: a lockout every 2 failures, of 1 s, 2 s, then 4 s (the maximum); the 10th failure in a row suspends TOTP.
const SMALL = {
  MFA_MAX_FAILED_ATTEMPTS: '2',
  MFA_LOCKOUT_SECONDS: '1',
  MFA_LOCKOUT_MAX_SECONDS: '4',
  MFA_MAX_CONSECUTIVE_FAILURES: '10',
  METRICS_PORT: '0',
  METRICS_HOST: '127.0.0.1',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 6-digit code that is none of the secret's codes near now. */
function wrongCode(secret: string, clock: OffsetClock): string {
  const near = new Set([-2, -1, 0, 1, 2].map((steps) => codeAt(secret, clock, steps)));
  for (let n = 0; ; n += 1) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** How one wrong code was answered: 'CODE/REASON', and RetryInfo's delay for a lockout. */
async function guess(service: TestService, user: EnrolledUser): Promise<{ outcome: string; retryDelayMs: number | null }> {
  try {
    await service.client.verifyTotp({ userId: user.userId, code: wrongCode(user.secret, service.clock) });
    return { outcome: 'OK', retryDelayMs: null };
  } catch (error) {
    const failure = decodeFailure(error as ServiceError);
    return { outcome: `${status[failure.code]}/${failure.reason}`, retryDelayMs: failure.retryDelayMs };
  }
}

/**
 * A patient attacker: wrong codes, each lockout waited out (as RetryInfo says), until TOTP is
 * suspended; `between` runs after each try. The outcomes, and the lockouts' lengths.
 */
async function attack(service: TestService, user: EnrolledUser, between: (tries: number) => Promise<void> = async () => {}) {
  const outcomes: string[] = [];
  const lockouts: number[] = [];
  while (outcomes.at(-1) !== 'FAILED_PRECONDITION/TOTP_SUSPENDED' && outcomes.length < 20) {
    const { outcome, retryDelayMs } = await guess(service, user);
    outcomes.push(outcome);
    if (retryDelayMs !== null) {
      lockouts.push(retryDelayMs);
      await sleep(retryDelayMs + 30);
    }
    await between(outcomes.length);
  }
  return { outcomes, lockouts };
}

async function metric(service: TestService, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${service.service.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 'NaN');
}

/** The user's durable failures as the document holds them (fields absent while zero). */
async function durableFailures(stores: RealStores, userId: string) {
  const doc = await stores.mongo.db(stores.mongoDb).collection<{ _id: string }>('mfa_factors').findOne({ _id: userId });
  const { failedChecks, lockouts, totpSuspendedAt } = (doc ?? {}) as { failedChecks?: number; lockouts?: number; totpSuspendedAt?: Date };
  return { failedChecks, lockouts, suspended: totpSuspendedAt !== undefined };
}

const LOCKED = 'RESOURCE_EXHAUSTED/LOCKED_OUT';
const INVALID = 'PERMISSION_DENIED/INVALID_CODE';
const SUSPENDED = 'FAILED_PRECONDITION/TOTP_SUSPENDED';

describe('Escalating lockouts and TOTP suspension (issue 22; gRPC, real Redis and MongoDB)', function () {
  this.timeout(120_000);
  // It flushes Redis (FLUSHALL): servers of its own, so no other file loses its keys.
  const stores = useRealStores({ private: true });
  const svc = useService(stores, SMALL);

  it('judges exactly the limit, each lockout longer than the one before up to the maximum, then TOTP_SUSPENDED also for the right code; the suspension survives FLUSHALL and a restart, a recovery code restores TOTP, and both events are recorded', async () => {
    let service = await startTestService({ ...stores.env, ...SMALL });
    try {
      const user = await enrollUser(service.client, service.clock);
      const [startedBefore, suspensionsBefore] = [await metric(service, 'mfa_lockouts_started_total'), await metric(service, 'mfa_totp_suspensions_total')];
      const { outcomes, lockouts } = await attack(service, user);
      expect(outcomes).to.deep.equal([INVALID, LOCKED, INVALID, LOCKED, INVALID, LOCKED, INVALID, LOCKED, INVALID, SUSPENDED]);
      expect(lockouts).to.deep.equal([1000, 2000, 4000, 4000]);
      await expectFailure(service.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, service.clock) }), status.FAILED_PRECONDITION, 'TOTP_SUSPENDED');
      const suspended = await service.client.getMfaStatus({ userId: user.userId });
      expect(suspended.totpSuspendedAt).to.be.instanceOf(Date);
      expect(suspended.lockedUntil, 'the suspending failure started no lockout').to.equal(undefined);
      expect(await metric(service, 'mfa_lockouts_started_total')).to.equal(startedBefore + 4);
      expect(await metric(service, 'mfa_totp_suspensions_total')).to.equal(suspensionsBefore + 1);
      expect(await durableFailures(stores, user.userId)).to.deep.equal({ failedChecks: 10, lockouts: 4, suspended: true });

      await service.stop();
      await stores.redis.flushall();
      service = await startTestService({ ...stores.env, ...SMALL });
      service.clock.advance(60_000); // a step after the enrollment's
      await expectFailure(service.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, service.clock) }), status.FAILED_PRECONDITION, 'TOTP_SUSPENDED');
      expect((await service.client.getMfaStatus({ userId: user.userId })).totpSuspendedAt).to.be.instanceOf(Date);

      expect((await service.client.verifyRecoveryCode({ userId: user.userId, recoveryCode: user.recoveryCodes[0] })).recoveryCodesRemaining).to.equal(9);
      expect((await service.client.getMfaStatus({ userId: user.userId })).totpSuspendedAt).to.equal(undefined);
      expect(await durableFailures(stores, user.userId)).to.deep.equal({ failedChecks: undefined, lockouts: undefined, suspended: false });
      await service.client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, service.clock) });

      const events = await eventually(async () => {
        const logged = await loggedEvents(stores.mongo, stores.mongoDb, [user.userId]);
        expect(logged.map((e) => e.type)).to.include.members(['TOTP_SUSPENDED', 'TOTP_RESTORED']);
        return logged as Array<{ type: string; failedAttempts?: number; requestId: string }>;
      }, 10_000);
      expect(events.map((e) => e.type)).to.deep.equal([
        'MFA_ENABLED', 'LOCKED_OUT', 'LOCKED_OUT', 'LOCKED_OUT', 'LOCKED_OUT', 'TOTP_SUSPENDED',
        ...events.slice(6, 8).map((e) => e.type).sort(),
      ]);
      expect(events.slice(6, 8).map((e) => e.type).sort()).to.deep.equal(['RECOVERY_CODE_USED', 'TOTP_RESTORED']);
      expect(events[6]!.requestId, 'in the same write as its RECOVERY_CODE_USED').to.equal(events[7]!.requestId);
      expect(events.find((e) => e.type === 'TOTP_SUSPENDED')!.failedAttempts).to.equal(10);
    } finally {
      await service.stop();
    }
  });

  it('does not forget a failure on a quiet period longer than the lockout', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    expect((await guess(svc.current, user)).outcome).to.equal(INVALID);
    await sleep(1500);
    expect(await guess(svc.current, user)).to.deep.equal({ outcome: LOCKED, retryDelayMs: 1000 });
  });

  it('starts the count and the escalation again after a success between failures', async () => {
    const { client, clock } = svc.current;
    const user = await enrollUser(client, clock);
    expect((await guess(svc.current, user)).outcome).to.equal(INVALID);
    expect(await guess(svc.current, user)).to.deep.equal({ outcome: LOCKED, retryDelayMs: 1000 });
    await sleep(1030);
    expect((await guess(svc.current, user)).outcome).to.equal(INVALID);
    expect(await durableFailures(stores, user.userId)).to.deep.equal({ failedChecks: 2, lockouts: 1, suspended: false });
    await client.verifyTotp({ userId: user.userId, code: codeAt(user.secret, clock) });
    expect(await durableFailures(stores, user.userId)).to.deep.equal({ failedChecks: undefined, lockouts: undefined, suspended: false });
    expect((await guess(svc.current, user)).outcome).to.equal(INVALID);
    expect(await guess(svc.current, user), 'a first lockout again, not a second').to.deep.equal({ outcome: LOCKED, retryDelayMs: 1000 });
  });

  it('gives at most MFA_MAX_FAILED_ATTEMPTS extra guesses for a Redis flush in the middle of an attack, and keeps the escalation', async () => {
    const user = await enrollUser(svc.current.client, svc.current.clock);
    // After the 5th try, one failure is counted in Redis alone: the flush loses it.
    const { outcomes, lockouts } = await attack(svc.current, user, async (tries) => {
      if (tries === 5) await stores.redis.flushall();
    });
    expect(outcomes.at(-1)).to.equal(SUSPENDED);
    expect(outcomes.length).to.be.within(10, 10 + 2);
    expect(outcomes).to.deep.equal([INVALID, LOCKED, INVALID, LOCKED, INVALID, INVALID, LOCKED, INVALID, LOCKED, INVALID, SUSPENDED]);
    expect(lockouts).to.deep.equal([1000, 2000, 4000, 4000]);
  });
});
