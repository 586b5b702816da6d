import { runDetached } from '../../call-scope.js';
import type { ConfirmationNotifier, Unsubscribe } from '../ports.js';
import { redisCall, userKey, type RedisClient } from './redis-client.js';

type Listener = (enrollmentId: string) => void;

/** One subscribed channel: its listeners on this instance, and the SUBSCRIBE they wait for. */
interface Channel {
  readonly listeners: Set<Listener>;
  readonly subscribed: Promise<unknown>;
}

/**
 * ConfirmationNotifier over Redis pub/sub: PUBLISH/SUBSCRIBE on a single
 * Redis, sharded SPUBLISH/SSUBSCRIBE on Redis Cluster (Redis 7), where the
 * channel carries the user's hash tag like the user's keys, so a notice goes
 * to one shard instead of every node. `subscriber` is this instance's one
 * listening connection (on a Cluster, ioredis's sharded subscribers, one per
 * master): each user's channel is subscribed while at least one listener of
 * this instance wants it, and unsubscribed when the last one leaves.
 */
export class RedisConfirmationNotifier implements ConfirmationNotifier {
  readonly #channels = new Map<string, Channel>();

  constructor(
    private readonly deps: {
      /** Publishes (any connection). */
      readonly redis: RedisClient;
      /** Listens: a connection of its own on a single Redis; on a Cluster, one made with shardedSubscribers. */
      readonly subscriber: RedisClient;
      readonly keyPrefix: string;
      /** How long a SUBSCRIBE may take: ioredis gives the Cluster's sharded subscriber connections no command timeout. */
      readonly timeoutMs: number;
    },
  ) {
    const deliver = (channel: string, enrollmentId: string) => {
      for (const listener of this.#channels.get(channel)?.listeners ?? []) listener(enrollmentId);
    };
    if (this.#sharded) deps.subscriber.on('smessage', deliver);
    else deps.subscriber.on('message', deliver);
  }

  get #sharded(): boolean {
    return this.deps.subscriber.isCluster;
  }

  async publish(userId: string, enrollmentId: string): Promise<number> {
    const channel = this.#channel(userId);
    const { redis } = this.deps;
    const received = await redisCall(() => (this.#sharded ? redis.spublish(channel, enrollmentId) : redis.publish(channel, enrollmentId)));
    return Number(received);
  }

  async subscribe(userId: string, listener: Listener): Promise<Unsubscribe> {
    const name = this.#channel(userId);
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      const subscribed = redisCall(() =>
        withTimeout(this.#sharded ? this.deps.subscriber.ssubscribe(name) : this.deps.subscriber.subscribe(name), this.deps.timeoutMs),
      );
      channel = { listeners: new Set(), subscribed };
      this.#channels.set(name, channel);
    }
    const own: Listener = (enrollmentId) => listener(enrollmentId);
    channel.listeners.add(own);
    const leave = once(() => this.#leave(name, channel, own));
    try {
      await channel.subscribed;
    } catch (error) {
      await leave();
      throw error;
    }
    return leave;
  }

  /**
   * Removes a listener; the last one of a channel unsubscribes it. Commands on
   * one connection run in order, so a SUBSCRIBE sent after this UNSUBSCRIBE
   * (a new listener of the same user) still ends subscribed.
   */
  async #leave(name: string, channel: Channel, listener: Listener): Promise<void> {
    channel.listeners.delete(listener);
    if (channel.listeners.size > 0 || this.#channels.get(name) !== channel) return;
    this.#channels.delete(name);
    // Also when the stream's call has ended: leaving is clean-up, not the call's work.
    await runDetached(() =>
      redisCall(() => (this.#sharded ? this.deps.subscriber.sunsubscribe(name) : this.deps.subscriber.unsubscribe(name))),
    ).catch(() => {
      // Not listening is what is wanted; a connection that failed is not listening either.
    });
  }

  #channel(userId: string): string {
    return userKey(this.deps.keyPrefix, userId, 'confirmed');
  }
}

/** `promise`, or a rejection (an outage, to redisCall) once `ms` have passed. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply to SUBSCRIBE within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function once(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => (done ??= run());
}
