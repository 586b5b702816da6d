import { expect } from 'chai';
import { freePort } from '../../dev/free-port.js';
import { useRealStores } from '../support/e2e-fixture.js';
import { runFailingStart } from '../support/service-process.js';

describe('Start-up failures (a service process, real Redis and MongoDB)', function () {
  this.timeout(60_000);
  const stores = useRealStores();

  context('when Redis cannot be reached', () => {
    it('exits 1 with one line naming Redis and its address, without the password', async () => {
      const port = await freePort();
      const { code, output } = await runFailingStart({ ...stores.env, REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` });
      expect(code).to.equal(1);
      expect(output).to.contain(`mfa-service: failed to start: cannot reach Redis at redis://127.0.0.1:${port}: connection refused\n`);
      expect(output).to.not.contain('hunter2-secret');
    });
  });

  context('when MongoDB cannot be reached', () => {
    it('exits 1 with one line naming MongoDB and its address, without the password', async () => {
      const port = await freePort();
      const { code, output } = await runFailingStart({
        ...stores.env,
        MONGO_URL: `mongodb://mfa:hunter2-secret@127.0.0.1:${port}/mfa?directConnection=true`,
        MFA_STORE_TIMEOUT_MS: '500',
      });
      expect(code).to.equal(1);
      expect(output).to.contain(`mfa-service: failed to start: cannot reach MongoDB at mongodb://127.0.0.1:${port}: connection refused\n`);
      expect(output).to.not.contain('hunter2-secret');
    });
  });

  context('when MONGO_URL weakens the write concern (more cases: test/unit/config.spec.ts)', () => {
    it('exits 2 with a one-line configuration error', async () => {
      const url = stores.env['MONGO_URL']!;
      const { code, output } = await runFailingStart({ ...stores.env, MONGO_URL: `${url}${url.includes('?') ? '&' : '?'}w=1` });
      expect(code).to.equal(2);
      expect(output).to.match(/^mfa-service: configuration error: MONGO_URL option w=1 is refused: [^\n]+\n$/);
    });
  });
});
