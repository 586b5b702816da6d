import { Redis } from 'ioredis';
import { guardStore } from '../store-unavailable.js';

/**
 * A Redis connection that fails fast: while disconnected, commands are refused
 * at once instead of queueing until the caller's deadline, and each command
 * gives up after `timeoutMs`. ioredis reconnects by itself in the background.
 */
export function createRedis(url: string, timeoutMs: number): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}

/** Runs a Redis call; a connection problem or timeout becomes STORE_UNAVAILABLE, a Redis error reply stays INTERNAL. */
export function redisCall<T>(operation: () => Promise<T>): Promise<T> {
  return guardStore('Redis', (error) => !(error instanceof Error && error.name === 'ReplyError'), operation);
}

/**
 * The key of one kind of a user's data. Every key of a user shares the hash
 * tag `{userId}`, so multi-key scripts stay on one Redis Cluster slot; the id
 * is percent-encoded so that braces or colons in it cannot break the tag or
 * make two users' keys collide.
 */
export function userKey(prefix: string, userId: string, kind: string): string {
  return `${prefix}{${encodeURIComponent(userId)}}:${kind}`;
}
