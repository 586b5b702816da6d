import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { BSON, MongoClient, type Db } from 'mongodb';
import { countRedisRoundTrips } from './redis-round-trips.js';

// The commands a store adapter sends for reads and writes; hello, ping and the like are left out.
const CRUD_COMMANDS = ['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'count'];

/** Reads the benchmark's Redis and MongoDB from the outside: memory, data size and command counters. */
export class StoreProbe {
  private constructor(
    private readonly redis: Redis,
    private readonly mongo: MongoClient,
    private readonly db: Db,
  ) {}

  static async open(redisUrl: string, mongoUrl: string, mongoDb: string): Promise<StoreProbe> {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 60_000 });
    await redis.connect();
    // Bounded, so that a store that stops answering (FerretDB on PostgreSQL was once seen to hang on
    // ping and serverStatus after a load) fails the run with an error instead of hanging it.
    const mongo = await new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000, socketTimeoutMS: 60_000 }).connect().catch((error: unknown) => {
      redis.disconnect();
      throw error;
    });
    return new StoreProbe(redis, mongo, mongo.db(mongoDb));
  }

  /** Redis's `used_memory` (INFO memory): the bytes its allocator holds, data and overhead. */
  async redisUsedMemory(): Promise<number> {
    return infoField(await this.redis.info('memory'), 'used_memory');
  }

  /** Commands clients sent Redis while `action` ran, each one round trip (redis-round-trips.ts). */
  async redisRoundTrips(action: () => Promise<unknown>): Promise<number> {
    return countRedisRoundTrips(this.redis, action);
  }

  /** Read and write commands MongoDB has served so far, each a round trip (serverStatus metrics.commands; FerretDB has them too). */
  async mongoCrudCommands(): Promise<number> {
    const status = await this.mongo.db('admin').command({ serverStatus: 1 });
    const commands = (status['metrics']?.['commands'] ?? {}) as Record<string, { total?: unknown }>;
    return CRUD_COMMANDS.reduce((sum, name) => sum + Number(commands[name]?.total ?? 0), 0);
  }

  /**
   * A collection's `collStats.size` (MongoDB: the documents' BSON bytes;
   * FerretDB/SQLite: the table's pages), its document count, and the mean
   * BSON size of its documents counted here (the same on every backend).
   */
  async collectionSize(collection: string): Promise<{ size: number; documents: number; meanBsonBytes: number }> {
    const stats = await this.db.command({ collStats: collection });
    let documents = 0;
    let bsonBytes = 0;
    for await (const document of this.db.collection(collection).find({})) {
      documents += 1;
      bsonBytes += BSON.calculateObjectSize(document);
    }
    return { size: Number(stats['size']), documents, meanBsonBytes: documents === 0 ? 0 : bsonBytes / documents };
  }

  /**
   * Waits until no user's outbox holds a security event: the service's relay has moved the
   * setup's events to the log, so that it does not share the stores with a measured scenario.
   */
  async awaitRelayed(collection: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // The relay's own sweep query (MongoFactorStore.outboxes): one every server here answers.
    const unrelayed = { 'outbox.occurredAt': { $lt: new Date(Date.now() + 86_400_000) } };
    while ((await this.db.collection(collection).findOne(unrelayed, { projection: { _id: 1 } })) !== null) {
      if (Date.now() > deadline) throw new Error(`the service's relay left security events in ${collection} outboxes for ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  async dropDatabase(): Promise<void> {
    await this.db.dropDatabase();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.mongo.close();
  }
}

function infoField(info: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info);
  if (match === null) throw new Error(`Redis INFO has no ${name}`);
  return Number(match[1]);
}
