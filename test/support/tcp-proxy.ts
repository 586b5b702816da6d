import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that a test can cut and restore, to simulate an outage
 * of a server it cannot stop, or make slow: `delay` holds back what the client
 * sends (all of it, or the chunks `match` picks and everything after them on
 * that connection, so order is kept), to cut a call off mid-way.
 */
export interface TcpProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** From now on, holds back client-to-server chunks (those `match` picks) by `ms`; 0 turns it off. */
  delay(ms: number, match?: (chunk: Buffer) => boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let delay = { ms: 0, match: (_chunk: Buffer) => true };
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        let forwarded = Promise.resolve();
        client.on('data', (chunk: Buffer) => {
          const { ms, match } = delay;
          const held = ms > 0 && match(chunk);
          forwarded = forwarded.then(async () => {
            if (held) await new Promise((resolve) => setTimeout(resolve, ms));
            if (!upstream.destroyed) upstream.write(chunk);
          });
        });
        client.on('end', () => void forwarded.then(() => upstream.end()));
        upstream.pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(0);
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return {
    port,
    cut,
    restore: async () => void (await listen(port)),
    delay: (ms, match = () => true) => {
      delay = { ms, match };
    },
    close: cut,
  };
}

/** A matcher for chunks that contain `text` (a Redis script, a MongoDB command name). */
export function containing(text: string): (chunk: Buffer) => boolean {
  const needle = Buffer.from(text);
  return (chunk) => chunk.includes(needle);
}
