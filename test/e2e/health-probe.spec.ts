import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse } from 'yaml';
import { buildDist } from '../support/build-dist.js';
import { useRealStores } from '../support/e2e-fixture.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../../dev/free-port.js';
import { startTestService, TEST_KEYS, type TestService } from '../support/test-service.js';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ComposeService {
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

describe('The container health check', function () {
  this.timeout(60_000);

  describe('docker-compose.yml and the Dockerfile', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

    it('checks the service through the probe built into the image', () => {
      expect(compose.services['mfa']!.healthcheck!.test).to.deep.equal(['CMD', 'node', 'dist/health-probe.js']);
      // The image ships dist/, compiled from src/ in its build stage.
      expect(existsSync(join(ROOT, 'src', 'health-probe.ts'))).to.equal(true);
      expect(dockerfile).to.match(/COPY src \.\/src/);
      expect(dockerfile).to.match(/COPY --from=build \/app\/dist \.\/dist/);
    });

    it('starts the service once its stores are healthy, each with a health check of its own', () => {
      const mfa = compose.services['mfa']!;
      expect(mfa.depends_on).to.deep.equal({ redis: { condition: 'service_healthy' }, mongo: { condition: 'service_healthy' } });
      for (const store of ['redis', 'mongo']) expect(compose.services[store]!.healthcheck, store).to.not.equal(undefined);
    });

    it('starts the service the way npm start does (the tracing preload first)', () => {
      const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
      const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
      expect(start).to.contain(`exec ${cmd.join(' ')}`);
    });
  });

  describe('src/health-probe.ts against a real server', () => {
    // Servers of its own: it stops and restarts Redis.
    const stores = useRealStores({ private: true });
    let svc: TestService;
    /** Runs the probe with the service's settings, as the container does; its exit code and output. */
    const probe = async (port: number, script = join(ROOT, 'src', 'health-probe.ts')) => {
      const env = { ...process.env, ...stores.env, MFA_ENCRYPTION_KEYS: TEST_KEYS, GRPC_PORT: String(port) };
      const args = script.endsWith('.ts') ? ['--import', 'tsx', script] : [script];
      return run(process.execPath, args, { cwd: ROOT, env, timeout: 20_000 }).then(
        ({ stdout }) => ({ code: 0, output: stdout }),
        (error: { code: number; stderr: string }) => ({ code: error.code, output: error.stderr }),
      );
    };

    before(async () => {
      svc = await startTestService(stores.env);
      stores.cleanups.push(() => svc.stop());
    });

    it('exits 0 while mfa.v1.MfaService is SERVING', async () => {
      expect(await probe(svc.service.port)).to.deep.equal({ code: 0, output: 'mfa.v1.MfaService is SERVING\n' });
    });

    it('exits 0 as the image runs it, from the build', async function () {
      this.timeout(180_000);
      await buildDist();
      expect((await probe(svc.service.port, join(ROOT, 'dist', 'health-probe.js'))).code).to.equal(0);
    });

    it('exits 1 while Redis is down (NOT_SERVING), and 0 again when it is back', async () => {
      await stores.redisServer.stop();
      try {
        const down = await eventually(async () => {
          const result = await probe(svc.service.port);
          if (result.code === 0) throw new Error('still SERVING');
          return result;
        }, 20_000);
        expect(down).to.deep.equal({ code: 1, output: 'health-probe: mfa.v1.MfaService is NOT_SERVING\n' });
      } finally {
        await stores.redisServer.restart();
      }
      await eventually(async () => expect((await probe(svc.service.port)).code).to.equal(0), 20_000);
    });

    it('exits 1 when nothing answers on the port', async () => {
      const result = await probe(await freePort());
      expect(result.code).to.equal(1);
      expect(result.output).to.match(/^health-probe: no answer from port \d+/);
    });
  });
});
