import { expect } from 'chai';
import type { CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';
import { createMongoClient } from '../../src/stores/mongo/mongo-client.js';
import { MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';

describe('MongoDB durability settings (real MongoDB-compatible server)', function () {
  let server: TestMongo;
  let client: MongoClient;
  const started: CommandStartedEvent[] = [];
  const succeeded: CommandSucceededEvent[] = [];

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    server = await startMongoServer();
    // Even a URL asking for w=1 and secondaries gets the service's settings: its own options win.
    // (start-up refuses such a URL before this point; see test/unit/config.spec.ts.)
    client = createMongoClient(`${server.url}${server.url.includes('?') ? '&' : '?'}w=1&readPreference=secondaryPreferred`, 2000);
    client.options.monitorCommands = true;
    client.on('commandStarted', (event) => started.push(event));
    client.on('commandSucceeded', (event) => succeeded.push(event));
    await client.connect();
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  it('resolves to w: majority with journaling and reads from the primary', () => {
    expect(client.writeConcern).to.deep.include({ w: 'majority', journal: true });
    expect(client.readPreference.mode).to.equal('primary');
  });

  it("sends that write concern with the factor store's updates, and the server accepts it", async () => {
    const db = client.db(`mfa_durability_${process.pid}`);
    const factors = new MongoFactorStore(db);
    const at = new Date('2026-01-01T12:00:00Z');
    await factors.raiseSessionsRevokedAt('durable-user', at, []);

    const update = started.find((e) => e.commandName === 'update');
    expect(update, 'an update command').to.not.equal(undefined);
    expect(update!.command['writeConcern']).to.deep.equal({ w: 'majority', j: true });
    const reply = succeeded.find((e) => e.requestId === update!.requestId)!.reply as Record<string, unknown>;
    expect(reply['ok']).to.equal(1);
    expect(reply['writeConcernError']).to.equal(undefined);
    expect((await factors.get('durable-user'))?.sessionsRevokedAt).to.deep.equal(at);
    await db.dropDatabase();
  });
});
