import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { codeAt, newUserId, useRealStores } from '../support/e2e-fixture.js';
import { expectFailure, type MfaClient } from '../support/grpc-client.js';
import type { TestService } from '../support/test-service.js';
import { LOGIN_TOKEN, useProductionService } from '../support/production-service.js';

describe('Running it in production: metrics (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  const production = useProductionService(stores);
  let svc: TestService;
  let login: MfaClient;
  before(() => ({ svc, login } = production));

  describe('metrics', () => {
    it('serves grpc_server_* metrics, MFA counters by outcome, callers and process metrics at /metrics', async () => {
      await login.revokeSessions({ userId: newUserId() });
      await expectFailure(svc.client.getMfaStatus({ userId: 'alice' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
      const userId = newUserId('metered');
      const begun = await login.beginTotpEnrollment({ userId });
      const code = codeAt(begun.secret, svc.clock);
      await login.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
      await expectFailure(login.verifyTotp({ userId, code }), status.PERMISSION_DENIED, 'CODE_REUSED');
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i += 1) await login.verifyTotp({ userId, code: wrong }).catch(() => {});
      await expectFailure(login.verifyTotp({ userId, code: wrong }), status.RESOURCE_EXHAUSTED, 'LOCKED_OUT');

      const text = await (await fetch(`http://127.0.0.1:${svc.service.metricsPort}/metrics`)).text();
      expect(text).to.contain(
        'grpc_server_handled_total{grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="RevokeSessions",grpc_code="OK"}',
      );
      expect(text).to.contain('grpc_server_handled_total{grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="GetMfaStatus",grpc_code="UNAUTHENTICATED"}');
      expect(text).to.match(/grpc_server_handling_seconds_bucket\{le="0.005",grpc_type="unary",grpc_service="mfa.v1.MfaService",grpc_method="RevokeSessions"\} \d+/);
      expect(text).to.match(/mfa_enrollments_total\{stage="confirmed"\} [1-9]/);
      expect(text).to.match(/mfa_verifications_total\{method="VerifyTotp",outcome="CODE_REUSED"\} [1-9]/);
      expect(text).to.match(/mfa_replays_total [1-9]/);
      expect(text).to.match(/mfa_lockouts_total [1-9]/);
      expect(text).to.match(/mfa_rpcs_by_caller_total\{caller="login-service",grpc_method="ConfirmTotpEnrollment",grpc_code="OK"\} [1-9]/);
      expect(text).to.contain('process_cpu_user_seconds_total');
      expect(text).to.not.contain(LOGIN_TOKEN);
    });
  });
});
