import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { SecurityEventType } from '../../src/gen/mfa/v1/mfa.js';
import { codeAt, newUserId, useRealStores } from '../support/e2e-fixture.js';
import { expectFailure, type MfaClient } from '../support/grpc-client.js';
import type { TestService } from '../support/test-service.js';
import { useProductionService } from '../support/production-service.js';

describe('Running it in production: admin RPCs and the audit trail (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  const production = useProductionService(stores);
  let svc: TestService;
  let login: MfaClient;
  let support: MfaClient;
  before(() => ({ svc, login, support } = production));

  describe('admin RPCs and the audit trail', () => {
    it('lets only admin callers reset MFA, which revokes sessions and forgets devices, and records everything', async () => {
      const userId = newUserId('audited');
      const begun = await login.beginTotpEnrollment({ userId });
      await login.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code: codeAt(begun.secret, svc.clock) });
      svc.clock.advance(30_000);
      const remembered = await login.verifyTotp({ userId, code: codeAt(begun.secret, svc.clock), rememberDevice: true });
      await expectFailure(login.verifyTotp({ userId, code: codeAt(begun.secret, svc.clock) }), status.PERMISSION_DENIED, 'CODE_REUSED');

      await expectFailure(login.resetMfa({ userId, reason: 'ticket 42' }), status.PERMISSION_DENIED, 'ADMIN_REQUIRED');
      await expectFailure(login.listAuditEvents({ userId }), status.PERMISSION_DENIED, 'ADMIN_REQUIRED');
      await expectFailure(support.resetMfa({ userId, reason: '' }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');

      const reset = await support.resetMfa({ userId, reason: 'ticket 42: lost phone' });
      expect(reset.sessionsRevokedAt!.getTime()).to.equal(reset.resetAt!.getTime());
      expect((await login.getMfaStatus({ userId })).enabled).to.equal(false);
      expect((await login.checkRememberedDevice({ userId, deviceToken: remembered.deviceToken })).remembered).to.equal(false);
      await expectFailure(support.resetMfa({ userId, reason: 'again' }), status.FAILED_PRECONDITION, 'MFA_NOT_ENABLED');

      // At once, relayed or not: the trail also shows what is still in the user's outbox. A replay is only
      // counted towards the lockout, and beginning an enrollment changes nothing durable: neither is recorded.
      const { events } = await support.listAuditEvents({ userId });
      expect(events.map((e) => `${e.event}/${e.outcome}/${e.caller}/${SecurityEventType[e.type]}`)).to.deep.equal([
        'mfa.reset/success/support-console/SECURITY_EVENT_TYPE_MFA_RESET',
        'device.remembered/success/login-service/SECURITY_EVENT_TYPE_DEVICE_REMEMBERED',
        'enrollment.confirmed/success/login-service/SECURITY_EVENT_TYPE_MFA_ENABLED',
      ]);
      expect(events[0]!.detail).to.equal('ticket 42: lost phone');
      expect(events[0]!.securityEvent).to.deep.include({ reason: 'ticket 42: lost phone', eventId: events[0]!.eventId, cursor: '' });
      for (const e of events) {
        expect(e.userId).to.equal(userId);
        expect(e.requestId).to.match(/^[0-9a-f-]{36}$/);
      }
      const text = JSON.stringify(events);
      expect(text).to.not.contain(begun.secret);
      expect(text).to.not.contain(remembered.deviceToken);
    });

    it('pages newest first with opaque page tokens bound to the user', async () => {
      const userId = newUserId('paged');
      for (let i = 0; i < 5; i += 1) await login.revokeSessions({ userId });
      const first = await support.listAuditEvents({ userId, pageSize: 2 });
      const second = await support.listAuditEvents({ userId, pageSize: 2, pageToken: first.nextPageToken });
      const third = await support.listAuditEvents({ userId, pageSize: 2, pageToken: second.nextPageToken });
      expect([first.events.length, second.events.length, third.events.length]).to.deep.equal([2, 2, 1]);
      expect(third.nextPageToken).to.equal('');
      const ids = [...first.events, ...second.events, ...third.events].map((e) => e.eventId);
      expect(new Set(ids).size).to.equal(5);
      const times = [...first.events, ...second.events, ...third.events].map((e) => e.occurredAt!.getTime());
      expect(times).to.deep.equal([...times].sort((a, b) => b - a));
      const failure = await expectFailure(
        support.listAuditEvents({ userId: newUserId(), pageToken: first.nextPageToken }),
        status.INVALID_ARGUMENT,
        'INVALID_REQUEST',
      );
      expect(failure.badFields).to.deep.equal(['page_token']);
      await expectFailure(support.listAuditEvents({ userId, pageSize: -1 }), status.INVALID_ARGUMENT, 'INVALID_REQUEST');
      expect((await support.listAuditEvents({ userId, pageSize: 100_000 })).events).to.have.length(5);
    });
  });
});
