import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Commands clients sent Redis while `action` ran, from MONITOR on a connection
 * of its own (a duplicate of `redis`): each is one round trip (ioredis does
 * not pipeline across calls at this pace); the commands a Lua script runs
 * inside Redis (source "lua") and the server's health pings are not counted.
 */
export async function countRedisRoundTrips(redis: Redis, action: () => Promise<unknown>): Promise<number> {
  // Not `redis.monitor()`: ioredis enters its monitoring state one microtask after MONITOR's OK, so a
  // MONITOR line that arrives in the same read as the OK (a busy Redis) finds no command waiting and
  // ioredis emits "Command queue state error". monitor() listens for one error only, with `once`, to
  // reject its promise: the next such line then had no listener and crashed the run (seen at 3,000
  // seeded users). Here the listener is there before the connection opens and stays till it is gone.
  // Those lines, and the ones still in flight after the disconnect, fall outside `action` anyway.
  const monitor = redis.duplicate({ monitor: true, lazyConnect: true, retryStrategy: () => null });
  let failure: Error | null = null;
  let watching = false;
  let count = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // The server's store monitor pings every second, whatever the calls do.
    if (source !== 'lua' && String(args[0]).toLowerCase() !== 'ping') count += 1;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Redis did not enter MONITOR mode within 10 s')), 10_000);
      monitor.once('monitoring', () => {
        clearTimeout(timer);
        resolve();
      });
      monitor.on('error', (error: Error) => {
        if (/Command queue state error/.test(error.message)) return;
        failure ??= error;
        clearTimeout(timer);
        reject(error);
      });
      monitor.on('close', () => {
        if (watching) failure ??= new Error('the MONITOR connection to Redis closed while round trips were counted');
      });
      monitor.connect().catch(reject);
    });
    watching = true;
    count = 0;
    await action();
    // MONITOR lines trail the replies a little.
    await sleep(100);
  } finally {
    watching = false;
    monitor.disconnect();
  }
  if (failure !== null) throw failure;
  return count;
}
