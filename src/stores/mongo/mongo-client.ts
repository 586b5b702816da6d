import {
  MongoClient,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type MongoClientOptions,
} from 'mongodb';
import { guardStore } from '../guard-store.js';

/**
 * How durable every MongoDB call is, whatever the deployment's defaults: a
 * write is acknowledged once a majority of the replica set has it in its
 * journal (so a failover cannot roll back a spent code), and reads go to the
 * primary (so a check never decides on a lagging secondary's copy).
 */
export const MONGO_DURABILITY = {
  writeConcern: { w: 'majority', journal: true },
  readPreference: 'primary',
} as const;

/**
 * A MongoDB client with MONGO_DURABILITY that gives up after `timeoutMs` at
 * every stage (finding a server, connecting, waiting for a pooled connection,
 * waiting for a reply), so an outage is a quick STORE_UNAVAILABLE rather than a
 * hang until the caller's deadline. (The driver's timeoutMS is deprecated in
 * driver 7.) These options take precedence over the same ones in `url`, which
 * assertDurableMongoUrl has checked are not weaker; stronger ones in the URL
 * (wtimeoutMS, readConcernLevel) still apply.
 */
export function createMongoClient(url: string, timeoutMs: number): MongoClient {
  return new MongoClient(url, mongoClientOptions(timeoutMs));
}

/** The options createMongoClient gives the driver (the bench's driver-cost tool starts from them too). */
export function mongoClientOptions(timeoutMs: number): MongoClientOptions {
  return {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    waitQueueTimeoutMS: timeoutMs,
    appName: 'mfa-service',
    writeConcern: { ...MONGO_DURABILITY.writeConcern },
    readPreference: MONGO_DURABILITY.readPreference,
  };
}

/**
 * Throws an Error with a one-line message (never the URL's credentials) when
 * MONGO_URL asks for less than MONGO_DURABILITY: a `w` other than "majority"
 * (a number of nodes cannot be judged against a replica set of unknown size,
 * and a custom tag set cannot be judged at all), `journal=false` or `j=false`,
 * or a `readPreference` other than primary.
 */
export function assertDurableMongoUrl(url: string): void {
  const query = url.split('#')[0]!.split('?')[1] ?? '';
  for (const [key, value] of new URLSearchParams(query)) {
    const option = `${key}=${value}`.replace(/[^\x20-\x7e]/g, '?');
    const name = key.toLowerCase();
    if (name === 'w' && value !== 'majority') {
      throw new Error(`MONGO_URL option ${option} is refused: writes must be w=majority (the only w accepted)`);
    }
    if ((name === 'journal' || name === 'j') && value !== 'true') {
      throw new Error(`MONGO_URL option ${option} is refused: writes must be journaled`);
    }
    if (name === 'readpreference' && value !== 'primary') {
      throw new Error(`MONGO_URL option ${option} is refused: reads must go to the primary`);
    }
  }
}

const OUTAGES = [
  MongoNetworkError,
  MongoServerSelectionError,
  MongoOperationTimeoutError,
  MongoTopologyClosedError,
  MongoNotConnectedError,
  MongoClientClosedError,
];
// Pool errors the driver does not export: no free connection within waitQueueTimeoutMS
// (the server cannot keep up), and a pool closed while the call waited.
const OUTAGE_NAMES = new Set(['MongoWaitQueueTimeoutError', 'MongoPoolClosedError']);

/** Runs a MongoDB call; an unreachable server or a timeout becomes STORE_UNAVAILABLE. */
export function mongoCall<T>(operation: () => Promise<T>): Promise<T> {
  return guardStore(
    'MongoDB',
    (error) => OUTAGES.some((type) => error instanceof type) || (error instanceof Error && OUTAGE_NAMES.has(error.name)),
    operation,
  );
}
