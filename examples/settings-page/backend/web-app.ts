/**
 * The backend's HTTP server: the page's static files, and a small JSON API
 * (plus two Server-Sent Events streams) that turns each click into calls of
 * the MFA service. Each route says which session it needs; the session of a
 * signed-in route is checked with the service (CheckSession) on every request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MfaClientError } from 'mfa-service/client';
import { explain } from './error-words.js';
import { cookies, HttpError, readJson, sendJson, sendStatic, setCookie } from './http-kit.js';
import type { Backend } from './backend.js';
import type { Session } from './sessions.js';

/** What a route handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly body: Record<string, unknown>;
  /** The session: null for routes of `needs: 'none'`. */
  readonly session: Session | null;
}

/** One API route. A handler returns the JSON answer, or nothing when it wrote the response itself (SSE). */
export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** 'none': anyone; 'code': after the password, at the code step; 'signed-in': a signed-in user. */
  readonly needs: 'none' | 'code' | 'signed-in';
  handle(context: RouteContext): Promise<object | void>;
}

export const SESSION_COOKIE = 'session';

/** Ends the browser's session, as enabling and disabling MFA do. */
export function signOut(backend: Backend, context: RouteContext): void {
  if (context.session !== null) backend.sessions.end(context.session.id);
  setCookie(context.res, SESSION_COOKIE, '', 0);
}

async function sessionFor(backend: Backend, req: IncomingMessage, needs: Route['needs']): Promise<Session | null> {
  if (needs === 'none') return backend.sessions.find(cookies(req).get(SESSION_COOKIE));
  const session = backend.sessions.find(cookies(req).get(SESSION_COOKIE));
  if (session === null || (needs === 'signed-in' && session.stage !== 'signed-in') || (needs === 'code' && session.stage !== 'code')) {
    throw new HttpError(401, 'SIGNED_OUT', 'You are signed out. Please sign in.');
  }
  // As a gateway would on each request: was the user logged out everywhere since this session began?
  const { revoked } = await backend.mfa.checkSession({ userId: session.userId, sessionIssuedAt: session.issuedAt });
  if (revoked) {
    backend.sessions.end(session.id);
    throw new HttpError(401, 'SESSION_REVOKED', 'You were signed out because your sign-in settings changed. Please sign in again.');
  }
  return session;
}

async function handle(backend: Backend, routes: readonly Route[], publicDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = routes.find((r) => r.method === req.method && r.path === url.pathname);
  if (route === undefined) {
    if (req.method === 'GET' && !url.pathname.startsWith('/api/') && (await sendStatic(res, publicDir, url.pathname))) return;
    throw new HttpError(404, 'NOT_FOUND', 'There is no such page.');
  }
  // Same-origin only: the API is called by the page's own scripts (with SameSite=Strict cookies, a second guard).
  if (req.method === 'POST' && req.headers['content-type'] !== 'application/json') {
    throw new HttpError(415, 'JSON_REQUIRED', 'The request must be JSON.');
  }
  const session = await sessionFor(backend, req, route.needs);
  const body = req.method === 'POST' ? await readJson(req) : {};
  const answer = await route.handle({ req, res, url, body, session });
  if (!res.headersSent) sendJson(res, 200, answer ?? {});
}

/** Starts the HTTP server on localhost:port. */
export async function startWebApp(backend: Backend, routes: readonly Route[], publicDir: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    handle(backend, routes, publicDir, req, res).catch((error: unknown) => {
      const answer = error instanceof HttpError ? error : error instanceof MfaClientError ? explain(error) : null;
      if (answer === null) backend.log(`unexpected error on ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
      if (res.headersSent) return void res.end();
      const { status, reason, message } = answer ?? new HttpError(500, 'INTERNAL', 'Something went wrong. Try again in a moment.');
      sendJson(res, status, { error: { reason, message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, 'localhost', resolve);
  });
  return server;
}
