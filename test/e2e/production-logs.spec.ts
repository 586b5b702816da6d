import { expect } from 'chai';
import { codeAt, newUserId, useRealStores } from '../support/e2e-fixture.js';
import type { MfaClient } from '../support/grpc-client.js';
import type { TestService } from '../support/test-service.js';
import { LOGIN_TOKEN, SUPPORT_TOKEN, useProductionService } from '../support/production-service.js';

describe('Running it in production: logs (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  const production = useProductionService(stores);
  let svc: TestService;
  let login: MfaClient;
  before(() => ({ svc, login } = production));

  describe('logs', () => {
    it('writes one line per RPC with method, code, duration, caller and request id, and never a token, secret or code', async () => {
      const userId = newUserId('logged');
      const begun = await login.beginTotpEnrollment({ userId });
      const code = codeAt(begun.secret, svc.clock);
      const confirmed = await login.confirmTotpEnrollment({ userId, enrollmentId: begun.enrollmentId, code });
      await login.verifyRecoveryCode({ userId, recoveryCode: confirmed.recoveryCodes[1] });
      const rpcLines = svc.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'rpc' && l['method'] === 'ConfirmTotpEnrollment');
      expect(rpcLines.at(-1)).to.include({ grpcCode: 'OK', caller: 'login-service' });
      expect(rpcLines.at(-1)!['requestId']).to.be.a('string');
      expect(rpcLines.at(-1)!['durationMs']).to.be.a('number');
      const all = svc.logs.join('');
      for (const secret of [LOGIN_TOKEN, SUPPORT_TOKEN, begun.secret, `"${code}"`, ...confirmed.recoveryCodes]) {
        expect(all).to.not.contain(secret);
      }
    });
  });
});
