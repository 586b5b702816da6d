import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** The JWK Set of the MFA assertion keys and how long it may be cached; null while assertions are off. */
export type JwksSource = () => Promise<{ readonly jwks: unknown; readonly maxAgeSeconds: number } | null>;

/**
 * The plain-HTTP listener of METRICS_PORT: the registry as Prometheus text at
 * GET /metrics and, when assertions are on, the MFA assertion keys at GET
 * /.well-known/jwks.json, with a Cache-Control max-age up to the schedule's
 * next change. Plain HTTP: for a private network, or behind TLS.
 */
export async function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
  jwks: JwksSource = async () => null,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = request.url?.split('?')[0];
    if (request.method === 'GET' && path === '/.well-known/jwks.json') {
      jwks().then(
        (found) =>
          found === null
            ? response.writeHead(404).end('MFA assertions are off (MFA_ASSERTION_ISSUER)\n')
            : response
                .writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': `public, max-age=${found.maxAgeSeconds}` })
                .end(JSON.stringify(found.jwks)),
        () => response.writeHead(503, { 'cache-control': 'no-store' }).end('keys unavailable\n'),
      );
      return;
    }
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
