import { runDetached } from '../../call-scope.js';
import type { Notifier, Unsubscribe } from '../ports/index.js';
import { redisCall, type RedisClient } from './redis-client.js';

type Listener = (message: string) => void;

/** One subscribed channel: its listeners on this instance, and the SUBSCRIBE they wait for. */
interface Channel {
  readonly listeners: Set<Listener>;
  readonly subscribed: Promise<unknown>;
}

/**
 * Notifier over Redis pub/sub: PUBLISH/SUBSCRIBE on a single
 * Redis, sharded SPUBLISH/SSUBSCRIBE on Redis Cluster (Redis 7), where the
 * channel carries a hash tag (the user's, like the user's keys), so a notice goes
 * to one shard instead of every node. `subscriber` is this instance's one
 * listening connection (on a Cluster, ioredis's sharded subscribers, one per
 * master), shared by every RedisNotifier of the instance: each topic's channel is subscribed while at least one listener of
 * this instance wants it, and unsubscribed when the last one leaves.
 */
export class RedisNotifier implements Notifier {
  readonly #channels = new Map<string, Channel>();

  constructor(
    private readonly deps: {
      /** Publishes (any connection). */
      readonly redis: RedisClient;
      /** Listens: a connection of its own on a single Redis; on a Cluster, one made with shardedSubscribers. */
      readonly subscriber: RedisClient;
      /** The channel of a topic; it must carry a hash tag ({...}) for Redis Cluster. */
      readonly channel: (topic: string) => string;
      /** How long a SUBSCRIBE may take: ioredis gives the Cluster's sharded subscriber connections no command timeout. */
      readonly timeoutMs: number;
    },
  ) {
    const deliver = (channel: string, message: string) => {
      for (const listener of this.#channels.get(channel)?.listeners ?? []) listener(message);
    };
    if (this.#sharded) deps.subscriber.on('smessage', deliver);
    else deps.subscriber.on('message', deliver);
  }

  get #sharded(): boolean {
    return this.deps.subscriber.isCluster;
  }

  async publish(topic: string, message: string): Promise<number> {
    const channel = this.deps.channel(topic);
    const { redis } = this.deps;
    const received = await redisCall(() => (this.#sharded ? redis.spublish(channel, message) : redis.publish(channel, message)));
    return Number(received);
  }

  async subscribe(topic: string, listener: Listener): Promise<Unsubscribe> {
    const name = this.deps.channel(topic);
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      const subscribed = redisCall(() =>
        withTimeout(this.#sharded ? this.deps.subscriber.ssubscribe(name) : this.deps.subscriber.subscribe(name), this.deps.timeoutMs),
      );
      channel = { listeners: new Set(), subscribed };
      this.#channels.set(name, channel);
    }
    const own: Listener = (message) => listener(message);
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
   * (a new listener of the same topic) still ends subscribed.
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
