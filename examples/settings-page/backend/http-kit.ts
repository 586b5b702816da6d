/**
 * The few HTTP helpers the backend needs on node:http: JSON in and out,
 * cookies, static files, and Server-Sent Events.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

/** An answer in words for the page; `reason` is the gRPC reason (or the backend's own), for the tooltip. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 16 * 1024;

/** The request's JSON body as an object of strings and booleans (anything else is a 400). */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY) throw new HttpError(413, 'BODY_TOO_LARGE', 'The request is too large.');
  }
  try {
    const value: unknown = JSON.parse(body || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'BAD_JSON', 'The request is not a JSON object.');
}

/** A string field of a JSON body ('' when absent). */
export function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export function cookies(req: IncomingMessage): Map<string, string> {
  const found = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) found.set(part.slice(0, at).trim(), decodeURIComponent(part.slice(at + 1).trim()));
  }
  return found;
}

/** Adds a Set-Cookie: HttpOnly, SameSite=Strict (the page and its API are one origin); maxAgeSeconds 0 deletes it. */
export function setCookie(res: ServerResponse, name: string, value: string, maxAgeSeconds: number): void {
  const previous = res.getHeader('set-cookie');
  const list = Array.isArray(previous) ? previous : previous === undefined ? [] : [String(previous)];
  res.setHeader('set-cookie', [...list, `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`]);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Serves a file of `root` (index.html for "/"); false when there is none. */
export async function sendStatic(res: ServerResponse, root: string, urlPath: string): Promise<boolean> {
  const path = normalize(join(root, urlPath === '/' ? 'index.html' : urlPath));
  if (!path.startsWith(root + sep)) return false;
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch {
    return false;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    // The QR code comes as a data: URL; nothing else is loaded from anywhere but here.
    'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
  });
  res.end(content);
  return true;
}

/** Server-Sent Events on `res`: send(event, data) writes one event; onClose runs when the browser goes away. */
export interface EventChannel {
  send(event: string, data: unknown): void;
  end(): void;
}

export function openEventStream(req: IncomingMessage, res: ServerResponse, onClose: () => void): EventChannel {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.flushHeaders();
  req.once('close', onClose);
  return {
    send: (event, data) => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    end: () => res.end(),
  };
}
