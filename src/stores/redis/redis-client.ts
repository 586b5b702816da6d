import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { guardStore } from '../guard-store.js';

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
    maxRetriesPerRequest: 1,
    commandTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
  };
  if (!options.cluster) {
    // enableOfflineQueue: false — refuse commands at once while disconnected.
    return new Redis(url, { ...common, enableOfflineQueue: false, lazyConnect: true, retryStrategy: backoff });
  }
  const seeds = parseClusterSeeds(url);
  const first = seeds[0]!;
  return new Cluster(
    seeds.map((seed) => ({ host: seed.hostname, port: Number(seed.port || 6379) })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      // SSUBSCRIBE (the Notifier) needs a subscriber connection per master; ioredis keeps them.
      shardedSubscribers: true,
      redisOptions: {
        ...common,
        username: first.username ? decodeURIComponent(first.username) : undefined,
        password: first.password ? decodeURIComponent(first.password) : undefined,
        tls: first.protocol === 'rediss:' ? {} : undefined,
      },
    },
  );
}

const backoff = (attempt: number) => Math.min(attempt * 200, 2000);

/**
 * Connects a client made by createRedis. ioredis rejects with only "Connection
 * is closed." and reports why on its 'error' event, so the rejection is an
 * AggregateError holding that and every error seen meanwhile.
 */
export async function connectRedis(redis: RedisClient): Promise<void> {
  const seen: unknown[] = [];
  const onError = (error: unknown) => seen.push(error);
  redis.on('error', onError);
  try {
    await redis.connect();
  } catch (error) {
    throw new AggregateError([error, ...seen], (error as Error).message);
  } finally {
    redis.off('error', onError);
  }
}

/**
 * The seed nodes of REDIS_URL with REDIS_CLUSTER=true: redis:// or rediss:// URLs,
 * comma-separated, sharing one scheme and credentials (those of the first are used).
 */
export function parseClusterSeeds(url: string): URL[] {
  const seeds = url.split(',').map((seed) => seed.trim()).filter((seed) => seed !== '');
  const parsed = seeds.map((seed) => {
    const parsedSeed = URL.canParse(seed) ? new URL(seed) : null;
    if (parsedSeed === null || !['redis:', 'rediss:'].includes(parsedSeed.protocol) || parsedSeed.hostname === '') {
      throw new Error(`REDIS_URL seed "${seed.replace(/\/\/[^@]*@/, '//***@')}" is not a redis:// or rediss:// URL with a host`);
    }
    return parsedSeed;
  });
  if (parsed.length === 0) throw new Error('REDIS_URL names no cluster seed node');
  if (new Set(parsed.map((seed) => seed.protocol)).size > 1) throw new Error('REDIS_URL seeds mix redis:// and rediss://');
  return parsed;
}

// Error replies that say the server cannot serve the command now, not that the command is wrong:
// out of memory (OOM), a replica after a failover (READONLY), a replica cut off from its primary
// (MASTERDOWN), loading its dataset (LOADING), a script running too long (BUSY), the cluster down or
// resharding (CLUSTERDOWN, TRYAGAIN), failing snapshots or too few replicas refusing writes
// (MISCONF, NOREPLICAS). A script's error carries the code of the command that failed in it.
const UNAVAILABLE_REPLY = /^(OOM|READONLY|MASTERDOWN|LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MISCONF|NOREPLICAS)\b/;

/** True for an error that means Redis cannot be used right now: no connection, a timeout, or one of the replies above. */
export function isRedisOutage(error: unknown): boolean {
  if (!(error instanceof Error && error.name === 'ReplyError')) return true;
  return UNAVAILABLE_REPLY.test(error.message);
}

/** Runs a Redis call; an outage (see isRedisOutage) becomes STORE_UNAVAILABLE, any other error reply stays INTERNAL. */
export function redisCall<T>(operation: () => Promise<T>): Promise<T> {
  return guardStore('Redis', isRedisOutage, operation);
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
