import { timeStepAt } from '../src/domain/totp.js';
import { createMongoClient } from '../src/stores/mongo/mongo-client.js';
import { FACTORS_COLLECTION } from '../src/stores/mongo/mongo-factor-store.js';
import { createRedis, type RedisClient } from '../src/stores/redis/redis-client.js';
import { RedisAttemptStore } from '../src/stores/redis/redis-attempt-store.js';
import { DEFAULT_REDIS_KEY_PREFIX } from '../src/stores/open-stores.js';
import type { Collection, MongoClient } from 'mongodb';
import { UnexpectedAnswer } from './load-loop.js';

/** Where the server keeps its state, for the floor to reach the same stores. */
export interface FloorStores {
  readonly redisUrl: string;
  readonly mongoUrl: string;
  readonly mongoDb: string;
}

// Enough copies that 64 calls in flight rarely touch one document twice at a time.
const DOCUMENTS = 256;
/** How many floors this process has opened. */
let openings = 0;
const TIMEOUT_MS = 2000;

interface FloorDocument {
  _id: string;
  authenticators?: Record<string, { lastTimeStep: number }>;
  version?: number;
}

/**
 * The least durable work each RPC needs, with the service's own drivers,
 * clients and options (createRedis, createMongoClient, the lockout script)
 * and no gRPC, on copies of an enrolled user's document:
 * - verify: the lockout script (a passed check) and one conditional
 *   single-document updateOne by _id that spends a newer time step;
 * - check_device: one findOne by _id.
 * The load generator runs them with the scenarios' concurrency; its own CPU
 * time over the window is the floor's client CPU.
 */
export class StoreFloor {
  #next = 0;
  #step = 0;

  private constructor(
    private readonly redis: RedisClient,
    private readonly mongo: MongoClient,
    private readonly factors: Collection<FloorDocument>,
    private readonly attempts: RedisAttemptStore,
    private readonly ids: readonly string[],
    private readonly authenticatorId: string,
    private readonly version: number,
  ) {}

  /** Connects, and copies `templateUserId`'s document DOCUMENTS times under ids of the run's own. */
  static async open(stores: FloorStores, templateUserId: string, runId: string): Promise<StoreFloor> {
    const redis = createRedis(stores.redisUrl, { timeoutMs: TIMEOUT_MS, cluster: false });
    const mongo = createMongoClient(stores.mongoUrl, TIMEOUT_MS);
    await Promise.all([redis.connect(), mongo.connect()]);
    const factors = mongo.db(stores.mongoDb).collection<FloorDocument>(FACTORS_COLLECTION);
    const template = await factors.findOne({ _id: templateUserId });
    const authenticatorId = Object.keys(template?.authenticators ?? {})[0];
    if (template === null || authenticatorId === undefined) throw new Error(`the floor needs an enrolled user's document (${templateUserId} has none)`);
    // Ids of this opening's own: with --rounds the floor opens again, and a close that failed leaves its documents.
    openings += 1;
    const ids = Array.from({ length: DOCUMENTS }, (_, i) => `floor-${runId}-${openings}-${i}`);
    await factors.insertMany(ids.map((_id) => ({ ...template, _id })));
    const attempts = new RedisAttemptStore({ redis, keyPrefix: DEFAULT_REDIS_KEY_PREFIX });
    const floor = new StoreFloor(redis, mongo, factors, attempts, ids, authenticatorId, template.version ?? 0);
    // Steps above any the service could spend, one more per call: every conditional update matches.
    floor.#step = timeStepAt(new Date()) + 1_000_000;
    return floor;
  }

  /** One verify's durable work: the lockout script, then the conditional spend of a newer step. */
  verify(): Promise<void> {
    return counted(async () => {
      const _id = this.#nextId();
      const step = ++this.#step;
      await this.attempts.settle(_id, true, { maxFailures: 100, lockoutMs: 60_000 });
      const path = `authenticators.${this.authenticatorId}`;
      // As FactorStore.spendStep writes it: the filter names the version, which a login does not move.
      const result = await this.factors.updateOne(
        { _id, enabled: true, [`${path}.lastTimeStep`]: { $lt: step }, version: this.version },
        { $set: { [`${path}.lastTimeStep`]: step, [`${path}.lastUsedAt`]: new Date() } },
      );
      if (result.matchedCount !== 1) throw new Error('the floor\'s spend matched no document');
    });
  }

  /** One check_device's durable work: the user's document by _id. */
  checkDevice(): Promise<void> {
    return counted(async () => {
      await this.factors.findOne({ _id: this.#nextId() });
    });
  }

  async close(): Promise<void> {
    // One by _id each: FerretDB pushes no $in down, and would read the whole collection for it.
    await Promise.all(this.ids.map((_id) => this.factors.deleteOne({ _id }))).catch(() => {});
    this.redis.disconnect();
    await this.mongo.close();
  }

  #nextId(): string {
    this.#next = (this.#next + 1) % this.ids.length;
    return this.ids[this.#next]!;
  }
}

/** A store error fails the call like a failed RPC: counted under its name, and the load goes on. */
async function counted(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    throw new UnexpectedAnswer(`store error: ${error instanceof Error ? error.name : 'unknown'}`);
  }
}
