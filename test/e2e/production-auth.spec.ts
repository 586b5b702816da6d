import { Metadata, status, credentials, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { MfaServiceClient, GetMfaStatusRequest } from '../../src/gen/mfa/v1/mfa.js';
import { useRealStores } from '../support/e2e-fixture.js';
import { bearer, connectClient, expectFailure } from '../support/grpc-client.js';
import { checkHealth } from '../support/health-client.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { LOGIN_TOKEN, useProductionService } from '../support/production-service.js';

describe('Running it in production: start-up and caller authentication (real Redis and MongoDB)', () => {
  const stores = useRealStores();
  const production = useProductionService(stores);
  let svc: TestService;
  before(() => ({ svc } = production));

  describe('start-up in production', () => {
    it('warns when neither caller tokens nor mutual TLS protect the port, and not when tokens do', async () => {
      const open = await startTestService({ ...stores.env, NODE_ENV: 'production' });
      stores.cleanups.push(() => open.stop());
      expect(open.logs.join('')).to.contain('NODE_ENV=production without MFA_AUTH_TOKENS or mutual TLS');
      expect(svc.logs.join('')).to.not.contain('without MFA_AUTH_TOKENS');
    });
  });

  describe('caller authentication', () => {
    it('fails UNAUTHENTICATED with reason UNAUTHENTICATED without a token or with an unknown one', async () => {
      await expectFailure(svc.client.getMfaStatus({ userId: 'alice' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
      const stranger = connectClient(svc.service.port, { metadata: () => bearer('not-a-known-token-at-all') });
      await expectFailure(stranger.getMfaStatus({ userId: 'alice' }), status.UNAUTHENTICATED, 'UNAUTHENTICATED');
      stranger.close();
    });

    it('serves health checks without a token', async () => {
      expect(await checkHealth(svc.service.port, '')).to.equal('SERVING');
      expect(await checkHealth(svc.service.port, 'mfa.v1.MfaService')).to.equal('SERVING');
    });

    it('returns the x-request-id it was given (or one it made) in the response headers', async () => {
      const client = new MfaServiceClient(`127.0.0.1:${svc.service.port}`, credentials.createInsecure());
      const headersOf = (metadata: Metadata) =>
        new Promise<Metadata>((resolve, reject) => {
          const call = client.getMfaStatus(GetMfaStatusRequest.fromPartial({ userId: 'alice' }), metadata, (error: ServiceError | null) => {
            if (error) reject(error);
          });
          call.on('metadata', resolve);
        });
      const given = bearer(LOGIN_TOKEN);
      given.set('x-request-id', 'req-12345');
      expect((await headersOf(given)).get('x-request-id')).to.deep.equal(['req-12345']);
      expect(String((await headersOf(bearer(LOGIN_TOKEN))).get('x-request-id')[0])).to.match(/^[0-9a-f-]{36}$/);
      client.close();
    });
  });
});
