import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { runFailingStart } from '../support/service-process.js';

describe('Starting on a port that is taken', function () {
  this.timeout(60_000);
  let taken: Server;
  let port: number;

  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });

  after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('exits 1 with one line naming the port and the setting, on the embedded stores', async () => {
    const { code, output } = await runFailingStart({ GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port) });
    expect(code).to.equal(1);
    expect(output).to.contain(`mfa-service: failed to start: port ${port} is in use; set GRPC_PORT\n`);
    expect(output).to.not.contain('EADDRINUSE');
  });
});
