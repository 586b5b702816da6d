import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { guardStore } from '../store-unavailable.js';

/** A single Redis or a Redis Cluster: the adapters use only commands both have. */
export type RedisClient = Redis | Cluster;

/**
 * A Redis connection that fails fast: while disconnected, commands are refused
 * at once instead of queueing until the caller's deadline, and each command
 * gives up after `timeoutMs`. ioredis reconnects by itself in the background.
 * With `cluster`, `url` may list several seed nodes, comma-separated.
 */
export function createRedis(url: string, options: { timeoutMs: number; cluster: boolean }): RedisClient {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
  };
  if (!options.cluster) {
    return new Redis(url, { ...common, lazyConnect: true, retryStrategy: (attempt) => Math.min(attempt * 200, 2000) });
  }
  const seeds = url.split(',').map((seed) => new URL(seed.trim()));
  const first = seeds[0]!;
  return new Cluster(
    seeds.map((seed) => ({ host: seed.hostname, port: Number(seed.port || 6379) })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      redisOptions: {
        ...common,
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
      },
    },
  );
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
