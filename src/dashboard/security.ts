/**
 * Who may talk to the dashboard. On loopback (127.0.0.1, ::1, localhost) no token is needed, but the
 * Host header must name loopback (DNS rebinding) and a browser Origin must be the page's own (a foreign
 * page cannot drive actions). On any other --host a random token is required for the page, the
 * WebSocket, /metrics and every action: `?token=`, `Authorization: Bearer`, or `X-AgentOS-Token`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host);
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const h = req.headers['x-agentos-token'];
  return typeof h === 'string' ? h : undefined;
}

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Host header names this server (loopback names when bound to loopback). */
export function hostAllowed(req: IncomingMessage, boundHost: string, port: number): boolean {
  const h = req.headers.host;
  if (!h) return false;
  if (!isLoopbackHost(boundHost)) return true; // the token does the work there
  return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `[::1]:${port}`;
}

/** A browser's Origin, when sent, must be this server's own. */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser cross-site request (curl, tests, same-origin GET)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
