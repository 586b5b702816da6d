import type { TotpAuthenticatorRecord } from '../../src/stores/ports/index.js';
import { expect } from 'chai';
import { MongoClient, type Db } from 'mongodb';
import { LEGACY_AUTHENTICATOR_ID } from '../../src/domain/authenticators.js';
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

  it('reads a document of one secret and no version as one legacy authenticator, and upgrade() rewrites it in today\'s shape', async () => {
    const at = new Date(Date.UTC(2026, 10, 1));
    // The shape the first version stored: one secret per user, no version field.
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
    const legacy = { authenticatorId: LEGACY_AUTHENTICATOR_ID, label: 'Authenticator app', sealedSecret: 'v1.k.iv.body', lastTimeStep: 100, createdAt: at, lastUsedAt: null };
    const record = (await store.get('legacy-user'))!;
    expect(record).to.deep.include({ enabled: true, legacy: true, version: 0 });
    expect(record.authenticators).to.deep.equal([legacy]);

    await store.upgrade('legacy-user');
    const raw = await db.collection(FACTORS_COLLECTION).findOne({ _id: 'legacy-user' as never });
    expect(raw).to.not.have.property('sealedSecret');
    expect(raw).to.not.have.property('lastTimeStep');
    const upgraded = (await store.get('legacy-user'))!;
    expect(upgraded).to.deep.include({ legacy: false, version: 1 });
    expect(upgraded.authenticators).to.deep.equal([legacy]);
    expect(upgraded.recoveryCodes).to.deep.equal({ keyId: 'k', hashes: ['h1', 'h2'] });
    await store.upgrade('legacy-user');
    expect((await store.get('legacy-user'))!.version).to.equal(1);

    const proof = { authenticatorId: LEGACY_AUTHENTICATOR_ID, timeStep: 101 };
    expect(await store.spendProof('legacy-user', proof, {}, 0)).to.equal(null);
    expect(await store.spendProof('legacy-user', proof, {}, 1)).to.deep.equal({ recoveryCodesRemaining: 2 });
    expect(((await store.get('legacy-user'))!.authenticators[0] as TotpAuthenticatorRecord).lastTimeStep).to.equal(101);
  });

  it('reads a user that the first version enabled after today\'s code turned MFA off (empty authenticators, top-level secret) as legacy', async () => {
    const at = new Date(Date.UTC(2026, 10, 2));
    // Today's turn-off leaves `authenticators: {}`; an instance of the first version then enables with a top-level secret.
    await db.collection(FACTORS_COLLECTION).insertOne({
      _id: 'rolling-user' as never,
      enabled: true,
      enabledAt: at,
      authenticators: {},
      sealedSecret: 'v1.k.iv.other',
      lastTimeStep: 7,
      recoveryCodes: { keyId: 'k', hashes: ['h1'] },
      devices: {},
      sessionsRevokedAt: at,
      version: 4,
    });
    const store = new MongoFactorStore(db);
    const record = (await store.get('rolling-user'))!;
    expect(record.legacy).to.equal(true);
    expect((record.authenticators as TotpAuthenticatorRecord[]).map((a) => [a.authenticatorId, a.sealedSecret, a.lastTimeStep])).to.deep.equal([[LEGACY_AUTHENTICATOR_ID, 'v1.k.iv.other', 7]]);
    await store.upgrade('rolling-user');
    const upgraded = (await store.get('rolling-user'))!;
    expect(upgraded).to.deep.include({ legacy: false, version: 5 });
    expect((upgraded.authenticators as TotpAuthenticatorRecord[]).map((a) => a.sealedSecret)).to.deep.equal(['v1.k.iv.other']);
  });
});
