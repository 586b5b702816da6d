import {
  MongoClient,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { guardStore } from '../store-unavailable.js';

/**
 * A MongoDB client that gives up after `timeoutMs` at every stage (finding a
 * server, connecting, waiting for a pooled connection, waiting for a reply),
 * so an outage is a quick STORE_UNAVAILABLE rather than a hang until the
 * caller's deadline. (The driver's timeoutMS is deprecated in driver 7.)
 */
export function createMongoClient(url: string, timeoutMs: number): MongoClient {
  return new MongoClient(url, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    waitQueueTimeoutMS: timeoutMs,
    appName: 'mfa-service',
  });
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
