import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { newUserId } from '../support/e2e-fixture.js';
import { connectClient } from '../support/grpc-client.js';
import { checkHealth } from '../support/health-client.js';
import { generateTestCerts, type TestCerts } from '../support/test-certs.js';
import { startTestService, type TestService } from '../support/test-service.js';

async function expectTransportFailure(call: Promise<unknown>): Promise<void> {
  const error = await call.then(
    () => null,
    (e: ServiceError) => e,
  );
  expect(error, 'the call should not get through').to.not.equal(null);
  expect(error!.code).to.equal(status.UNAVAILABLE);
}

// On the embedded stores: TLS is the transport's business, not the stores'.
describe('TLS (gRPC, in-memory stores)', () => {
  const started: TestService[] = [];
  after(() => Promise.all(started.map((svc) => svc.stop())));
  let certs: TestCerts;
  before(() => {
    certs = generateTestCerts();
  });
  const start = async (env: Record<string, string>): Promise<TestService> => {
    const svc = await startTestService(env);
    started.push(svc);
    return svc;
  };

  it('serves plaintext by default', async () => {
    const svc = await start({});
    expect((await svc.client.getMfaStatus({ userId: newUserId() })).enabled).to.equal(false);
  });

  it('serves TLS with GRPC_TLS_CERT and GRPC_TLS_KEY, refusing plaintext clients', async () => {
    const svc = await start({ GRPC_TLS_CERT: certs.serverCertPath, GRPC_TLS_KEY: certs.serverKeyPath });
    const tls = connectClient(svc.service.port, { channel: credentials.createSsl(certs.caCert) });
    expect((await tls.getMfaStatus({ userId: newUserId() })).enabled).to.equal(false);
    expect(await checkHealth(svc.service.port, '', credentials.createSsl(certs.caCert))).to.equal('SERVING');
    tls.close();
    const plain = connectClient(svc.service.port);
    await expectTransportFailure(plain.getMfaStatus({ userId: newUserId() }));
    plain.close();
  });

  it('requires a client certificate signed by GRPC_TLS_CLIENT_CA (mutual TLS)', async () => {
    const svc = await start({
      GRPC_TLS_CERT: certs.serverCertPath,
      GRPC_TLS_KEY: certs.serverKeyPath,
      GRPC_TLS_CLIENT_CA: certs.caCertPath,
    });
    const withCert = connectClient(svc.service.port, { channel: credentials.createSsl(certs.caCert, certs.clientKey, certs.clientCert) });
    expect((await withCert.getMfaStatus({ userId: newUserId() })).enabled).to.equal(false);
    withCert.close();
    const withoutCert = connectClient(svc.service.port, { channel: credentials.createSsl(certs.caCert) });
    await expectTransportFailure(withoutCert.getMfaStatus({ userId: newUserId() }));
    withoutCert.close();
  });
});
