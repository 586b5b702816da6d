import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { ErrorReason, MfaError } from '../../src/domain/errors.js';
import { Keyring } from '../../src/domain/keyring.js';
import { generateTotp } from '../../src/domain/totp.js';
import type { MfaServices } from '../../src/grpc/mfa-handlers.js';
import { createServices } from '../../src/main.js';
import { MemoryAttemptStore } from '../../src/stores/memory/memory-attempt-store.js';
import { MemoryAuditLog } from '../../src/stores/memory/memory-audit-log.js';
import { MemoryFactorStore } from '../../src/stores/memory/memory-factor-store.js';
import { MemoryPendingEnrollmentStore } from '../../src/stores/memory/memory-pending-enrollment-store.js';
import { MemoryRevocationCache } from '../../src/stores/memory/memory-revocation-cache.js';
import { storeUnavailable } from '../../src/stores/store-unavailable.js';
import { FakeClock } from '../support/fake-clock.js';

/** The services on the in-memory fakes with a fake clock; `failNextWrite` makes the next durable spend fail like an outage. */
function harness(env: Record<string, string> = {}) {
  const clock = new FakeClock();
  const factors = new MemoryFactorStore();
  let failNextWrite = false;
  const spendProof = factors.spendProof.bind(factors);
  factors.spendProof = async (...args) => {
    if (failNextWrite) {
      failNextWrite = false;
      throw storeUnavailable('MongoDB', new Error('simulated outage'));
    }
    return spendProof(...args);
  };
  const services: MfaServices = createServices(
    loadConfig(env),
    {
      factors,
      pending: new MemoryPendingEnrollmentStore(clock),
      attempts: new MemoryAttemptStore(clock),
      revocations: new MemoryRevocationCache(),
      auditLog: new MemoryAuditLog(),
    },
    { keyring: new Keyring([{ id: 'k', key: randomBytes(32) }]), clock, random: randomBytes, logger: pino({ level: 'silent' }) },
  );
  const enroll = async (userId: string) => {
    const begun = await services.enrollment.begin({ userId, accountName: '', issuer: '' });
    const confirmed = await services.enrollment.confirm({ userId, enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, clock.now()) });
    clock.advance(30_000);
    return { secret: begun.secret, recoveryCodes: confirmed.recoveryCodes };
  };
  return { clock, services, enroll, failNextWrite: () => (failNextWrite = true) };
}

async function reasonOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof MfaError) return error.reason;
    throw error;
  }
  return 'OK';
}

describe('services on the in-memory stores', () => {
  describe('VerificationService', () => {
    it('gives a recovery code back when its durable spend failed, so the user can retry', async () => {
      const h = harness();
      const { recoveryCodes } = await h.enroll('alice');
      h.failNextWrite();
      expect(await reasonOf(h.services.verification.verifyRecoveryCode({ userId: 'alice', recoveryCode: recoveryCodes[0]!, rememberDevice: false, deviceLabel: '' }))).to.equal(
        ErrorReason.STORE_UNAVAILABLE,
      );
      const verified = await h.services.verification.verifyRecoveryCode({ userId: 'alice', recoveryCode: recoveryCodes[0]!, rememberDevice: false, deviceLabel: '' });
      expect(verified.recoveryCodesRemaining).to.equal(9);
    });

    it('keeps at most MFA_MAX_REMEMBERED_DEVICES devices, forgetting the oldest', async () => {
      const h = harness({ MFA_MAX_REMEMBERED_DEVICES: '2' });
      const { secret } = await h.enroll('bob');
      const tokens: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const verified = await h.services.verification.verifyTotp({ userId: 'bob', code: generateTotp(secret, h.clock.now()), rememberDevice: true, deviceLabel: `d${i}` });
        tokens.push(verified.device!.token);
        h.clock.advance(30_000);
      }
      expect((await h.services.devices.list('bob')).map((d) => d.label)).to.deep.equal(['d2', 'd1']);
      expect((await h.services.devices.check('bob', tokens[0]!)).remembered).to.equal(false);
      expect((await h.services.devices.check('bob', tokens[2]!)).remembered).to.equal(true);
    });

    it('accepts a code one period old or ahead, but not two', async () => {
      const h = harness();
      const { secret } = await h.enroll('carol');
      const at = (steps: number) => generateTotp(secret, new Date(h.clock.now().getTime() + steps * 30_000));
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'carol', code: at(2), rememberDevice: false, deviceLabel: '' }))).to.equal('INVALID_CODE');
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'carol', code: at(1), rememberDevice: false, deviceLabel: '' }))).to.equal('OK');
      h.clock.advance(60_000);
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'carol', code: at(-1), rememberDevice: false, deviceLabel: '' }))).to.equal('CODE_REUSED');
      expect(await reasonOf(h.services.verification.verifyTotp({ userId: 'carol', code: at(0), rememberDevice: false, deviceLabel: '' }))).to.equal('OK');
    });
  });

  describe('EnrollmentService', () => {
    it('counts a wrong confirming code towards the lockout', async () => {
      const h = harness({ MFA_MAX_FAILED_ATTEMPTS: '2' });
      const begun = await h.services.enrollment.begin({ userId: 'dave', accountName: '', issuer: '' });
      const right = generateTotp(begun.secret, h.clock.now());
      const wrong = right === '000000' ? '111111' : '000000';
      expect(await reasonOf(h.services.enrollment.confirm({ userId: 'dave', enrollmentId: begun.enrollmentId, code: wrong }))).to.equal('INVALID_CODE');
      expect(await reasonOf(h.services.enrollment.confirm({ userId: 'dave', enrollmentId: begun.enrollmentId, code: wrong }))).to.equal('LOCKED_OUT');
      expect(await reasonOf(h.services.enrollment.confirm({ userId: 'dave', enrollmentId: begun.enrollmentId, code: right }))).to.equal('LOCKED_OUT');
      h.clock.advance(900_000);
      expect(await reasonOf(h.services.enrollment.confirm({ userId: 'dave', enrollmentId: begun.enrollmentId, code: generateTotp(begun.secret, h.clock.now()) }))).to.equal(
        'ENROLLMENT_NOT_FOUND',
      );
    });

    it('refuses an account name that would not fit a QR code once URL-encoded', async () => {
      const h = harness();
      const failure = await h.services.enrollment.begin({ userId: 'erin', accountName: '😀'.repeat(200), issuer: '' }).catch((e: MfaError) => e);
      expect(failure).to.be.instanceOf(MfaError);
      expect((failure as MfaError).reason).to.equal('INVALID_REQUEST');
      expect((failure as MfaError).fieldViolations.map((v) => v.field)).to.include('account_name');
    });
  });

  describe('AdminService', () => {
    it('refuses to reset a user without MFA, and does not log them out', async () => {
      const h = harness();
      expect(await reasonOf(h.services.admin.resetMfa('frank'))).to.equal('MFA_NOT_ENABLED');
      expect((await h.services.sessions.check('frank', new Date(0))).revoked).to.equal(false);
    });
  });
});
