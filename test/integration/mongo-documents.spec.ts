import { expect } from 'chai';
import { MongoClient, type Db } from 'mongodb';
import { FACTORS_COLLECTION, MongoFactorStore } from '../../src/stores/mongo/mongo-factor-store.js';
import { startMongoServer, type TestMongo } from '../../dev/mongo-server.js';

/** Documents as earlier versions of the service wrote them, read and written by today's adapter. */
describe('MongoFactorStore on documents written by earlier versions', function () {
  let server: TestMongo;
  let client: MongoClient;
  let db: Db;

  before(async function () {
    this.timeout(300_000); // the first run may build FerretDB
    server = await startMongoServer();
    client = await new MongoClient(server.url).connect();
    db = client.db(`mfa_documents_${process.pid}`);
  });

  after(async () => {
    await db?.dropDatabase();
    await client?.close();
    await server?.stop();
  });

  it('reads a document without a version as version 0, and applies a write naming version 0 to it', async () => {
    const at = new Date(Date.UTC(2026, 10, 1));
    // The shape the first version stored: no version field.
    await db.collection(FACTORS_COLLECTION).insertOne({
      _id: 'legacy-user' as never,
      enabled: true,
      enabledAt: at,
      sealedSecret: 'v1.k.iv.body',
      lastTimeStep: 100,
      recoveryCodes: { keyId: 'k', hashes: ['h1', 'h2'] },
      devices: {},
      sessionsRevokedAt: at,
    });
    const store = new MongoFactorStore(db);
    const record = (await store.get('legacy-user'))!;
    expect(record).to.deep.include({ enabled: true, lastTimeStep: 100, version: 0 });
    expect(await store.spendProof('legacy-user', { timeStep: 101 }, {}, 1)).to.equal(null);
    expect(await store.spendProof('legacy-user', { timeStep: 101 }, {}, 0)).to.deep.equal({ recoveryCodesRemaining: 2 });
    expect((await store.get('legacy-user'))!.version).to.equal(1);
    expect(await store.spendProof('legacy-user', { timeStep: 102 }, {}, 0)).to.equal(null);
  });
});
