import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { countRedisRoundTrips } from '../../bench/redis-round-trips.js';

const line = (command: string, source = '127.0.0.1:5000') => `+1700000000.000001 [0 ${source}] "${command}" "key"\r\n`;

/**
 * A stand-in Redis that answers every command with OK and, to MONITOR, sends
 * its OK and two MONITOR lines in one write: what a busy Redis does, and what
 * made ioredis's `monitor()` crash the bench.
 */
async function fakeRedis(): Promise<{ server: Server; port: number; monitors: Socket[] }> {
  const monitors: Socket[] = [];
  const server = createServer((socket) => {
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      // Each command is a RESP array of bulk strings: count its parts to find where it ends.
      for (;;) {
        const parts = parseCommand(pending);
        if (parts === null) return;
        pending = pending.slice(parts.length);
        if (parts.args[0]?.toUpperCase() === 'MONITOR') {
          monitors.push(socket);
          socket.write(`+OK\r\n${line('get')}${line('set')}`);
        } else {
          socket.write('+OK\r\n');
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, monitors };
}

function parseCommand(text: string): { args: string[]; length: number } | null {
  const lines = text.split('\r\n');
  const count = Number(lines[0]?.slice(1));
  if (lines.length < 2 * count + 2) return null;
  const args = Array.from({ length: count }, (_, i) => lines[2 + 2 * i]!);
  return { args, length: lines.slice(0, 1 + 2 * count).join('\r\n').length + 2 };
}

describe('bench: Redis round trips counted with MONITOR (redis-round-trips.ts)', () => {
  let fake: Awaited<ReturnType<typeof fakeRedis>>;
  let redis: Redis;

  beforeEach(async () => {
    fake = await fakeRedis();
    redis = new Redis(fake.port, '127.0.0.1', { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 1 });
    await redis.connect();
  });

  afterEach(async () => {
    redis.disconnect();
    for (const socket of fake.monitors) socket.destroy();
    await new Promise((resolve) => fake.server.close(resolve));
  });

  it('survives MONITOR lines that arrive with its OK, and counts only what the action sent (no Lua, no ping)', async () => {
    const count = await countRedisRoundTrips(redis, async () => {
      fake.monitors[0]!.write(`${line('get')}${line('hget')}${line('ping')}${line('hset', 'lua')}${line('del')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(count).to.equal(3);
  });

  it('fails, rather than undercounting, when the MONITOR connection closes during the action', async () => {
    const counting = countRedisRoundTrips(redis, async () => {
      fake.monitors[0]!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    let error: unknown = null;
    await counting.catch((caught: unknown) => (error = caught));
    expect(String(error)).to.match(/closed while round trips were counted/);
  });
});
