import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { listens, startChild, type Child } from '../../dev/child-process.js';
import { freePort } from '../../dev/free-port.js';
import { checkHealth } from '../support/health-client.js';
import { startServiceProcess } from '../support/service-process.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'local-stores.sh');

/** `npm run stores` (scripts/local-stores.sh) running on free ports with its data in a temp dir. */
function startLocalStores(dir: string, redisPort: number, mongoPort: number): Child {
  return startChild(SCRIPT, [], {
    env: { ...process.env, STORES_DIR: dir, STORES_REDIS_PORT: String(redisPort), STORES_MONGO_PORT: String(mongoPort) },
  });
}

function waitForOutput(stores: Child, text: string, timeoutMs: number): Promise<void> {
  return stores.waitUntil(`local-stores.sh printing "${text}"`, () => stores.output().includes(text), timeoutMs);
}

/** The variables of an env file of `export NAME=value` lines. */
function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

describe('npm run stores (scripts/local-stores.sh)', function () {
  this.timeout(300_000); // the first run may build FerretDB
  let dir: string;
  let redisPort: number;
  let mongoPort: number;
  let stores: Child;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfa-local-stores-'));
    [redisPort, mongoPort] = [await freePort(), await freePort()];
    stores = startLocalStores(dir, redisPort, mongoPort);
    await waitForOutput(stores, 'Ctrl-C stops both', 280_000);
  });

  after(async () => {
    await stores.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints and writes the export lines for Redis, FerretDB and a key', () => {
    const env = readEnvFile(join(dir, 'env'));
    expect(env).to.deep.include({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      MONGO_URL: `mongodb://127.0.0.1:${mongoPort}/`,
      MONGO_DB: 'mfa',
    });
    expect(env['MFA_ENCRYPTION_KEYS']).to.match(/^local:[A-Za-z0-9+/]{43}=$/);
    for (const line of readFileSync(join(dir, 'env'), 'utf8').trim().split('\n')) expect(stores.output()).to.contain(line);
  });

  it('runs the service on them as the README says (source the env file, start)', async () => {
    const service = await startServiceProcess(readEnvFile(join(dir, 'env')));
    try {
      expect(service.output()).to.contain('"stores":"external"');
      expect(await checkHealth(service.port, 'mfa.v1.MfaService')).to.equal('SERVING');
      const status = await service.client.getMfaStatus({ userId: 'alice' });
      expect(status.enabled).to.equal(false);
      // FerretDB keeps its data in SQLite files under the data dir.
      expect(readdirSync(join(dir, 'ferretdb', 'sqlite')).some((name) => name.endsWith('.sqlite'))).to.equal(true);
    } finally {
      await service.stop();
    }
  });

  it('refuses to start on a port that is already taken, and says how to pick others', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'mfa-local-stores-'));
    const second = startLocalStores(otherDir, redisPort, await freePort());
    expect(await second.exited).to.not.equal(0);
    await rm(otherDir, { recursive: true, force: true });
    expect(second.output()).to.contain(`port ${redisPort} is already in use`);
    expect(second.output()).to.contain('STORES_REDIS_PORT=');
  });

  it('stops both stores on Ctrl-C and keeps the data and the key', async () => {
    const key = readEnvFile(join(dir, 'env'))['MFA_ENCRYPTION_KEYS'];
    stores.signal('SIGINT');
    expect(await stores.exited).to.equal(0);
    expect(await listens(redisPort), 'Redis still listens').to.equal(false);
    expect(await listens(mongoPort), 'FerretDB still listens').to.equal(false);
    expect(existsSync(join(dir, 'ferretdb', 'sqlite'))).to.equal(true);

    // Started again on the same data: the same key, so the secrets sealed before still open.
    stores = startLocalStores(dir, redisPort, mongoPort);
    await waitForOutput(stores, 'Ctrl-C stops both', 60_000);
    expect(readEnvFile(join(dir, 'env'))['MFA_ENCRYPTION_KEYS']).to.equal(key);
  });
});
