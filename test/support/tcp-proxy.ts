import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that a test can cut and restore, to simulate an outage
 * of a server it cannot stop, or make slow: `delay` holds back what the client
 * sends (all of it, or the chunks `match` picks and everything after them on
 * that connection, so order is kept), to cut a call off mid-way.
 */
export interface TcpProxy {
  readonly port: number;
  /** How many client connections are open through it now. */
  connections(): number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  /** From now on, holds back client-to-server chunks (those `match` picks) by `ms`; 0 turns it off. */
  delay(ms: number, match?: (chunk: Buffer) => boolean): void;
  /**
   * Holds back the client-to-server chunks that `match` picks (and everything after each on its
   * connection, so order is kept) until released: a test orders events without sleeping.
   */
  hold(match: (chunk: Buffer) => boolean): HeldChunk;
  close(): Promise<void>;
}

/** A chunk a proxy holds back (see TcpProxy.hold). */
export interface HeldChunk {
  /** Resolves once the first such chunk arrived at the proxy: the client sent it, the server has not seen it. */
  readonly arrived: Promise<void>;
  /**
   * Sends them on and holds no more; resolves once the server answered each on its connection
   * (or the connection closed): what they asked for has happened.
   */
  release(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let delay = { ms: 0, match: (_chunk: Buffer) => true };
  let holding: { match: (chunk: Buffer) => boolean; arrive: () => void; gate: Promise<void>; answers: Array<Promise<void>> } | undefined;
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        clients.add(client);
        client.on('close', () => clients.delete(client));
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
          const gated = holding !== undefined && holding.match(chunk) ? holding : undefined;
          let answer = () => {};
          if (gated !== undefined) {
            gated.answers.push(new Promise<void>((resolve) => (answer = resolve)));
            gated.arrive();
          }
          forwarded = forwarded.then(async () => {
            if (held) await new Promise((resolve) => setTimeout(resolve, ms));
            if (gated !== undefined) {
              await gated.gate;
              if (upstream.destroyed) answer();
              upstream.once('data', answer).once('close', answer);
            }
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
    connections: () => clients.size,
    cut,
    restore: async () => void (await listen(port)),
    delay: (ms, match = () => true) => {
      delay = { ms, match };
    },
    hold: (match) => {
      let arrive = () => {};
      let open = () => {};
      const arrived = new Promise<void>((resolve) => (arrive = resolve));
      const gate = new Promise<void>((resolve) => (open = resolve));
      const armed = { match, arrive, gate, answers: [] as Array<Promise<void>> };
      holding = armed;
      return {
        arrived,
        release: async () => {
          if (holding === armed) holding = undefined;
          open();
          await Promise.all(armed.answers);
        },
      };
    },
    close: cut,
  };
}

/** A matcher for chunks that contain every one of `texts` (a Redis script, a MongoDB command name, a user id). */
export function containing(...texts: string[]): (chunk: Buffer) => boolean {
  const needles = texts.map((text) => Buffer.from(text));
  return (chunk) => needles.every((needle) => chunk.includes(needle));
}
