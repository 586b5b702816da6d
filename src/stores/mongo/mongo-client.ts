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
 * A MongoDB client whose every operation gives up after `timeoutMs` (the
 * driver's client-side operation timeout), so an outage is a quick
 * STORE_UNAVAILABLE rather than a hang until the caller's deadline.
 */
export function createMongoClient(url: string, timeoutMs: number): MongoClient {
  return new MongoClient(url, {
    timeoutMS: timeoutMs,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
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

/** Runs a MongoDB call; an unreachable server or a timeout becomes STORE_UNAVAILABLE. */
export function mongoCall<T>(operation: () => Promise<T>): Promise<T> {
  return guardStore('MongoDB', (error) => OUTAGES.some((type) => error instanceof type), operation);
}
