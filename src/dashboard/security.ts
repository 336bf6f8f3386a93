/**
 * Who may talk to the dashboard. Every dashboard has a random token, on loopback too: any local user (or
 * any local process) can reach 127.0.0.1, and an action such as POST /api/run runs code as the dashboard's
 * owner. The token is required for the page, its assets, `/api/state`, `/metrics`, the WebSocket and every
 * action, given as `?token=`, `Authorization: Bearer`, `X-AgentOS-Token`, or the page's cookie (the page
 * opened from the printed URL trades `?token=` for an HttpOnly, SameSite=Strict cookie and a redirect to
 * `/`, so the token does not stay in the address bar or the browser's history). On loopback the Host
 * header must also name loopback (DNS rebinding) and a browser Origin must be the page's own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host);
}

/** 24 random bytes as base64url (32 characters). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The cookie that carries the token. Cookies are not scoped by port, so the name carries it: two
 * dashboards on one host never overwrite each other's cookie.
 */
export function cookieName(port: number): string {
  return `agentos_token_${port}`;
}

/** The Set-Cookie value for the page: HttpOnly (no script reads it), SameSite=Strict (no cross-site use). */
export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Every token the request offers (query, Authorization, X-AgentOS-Token, cookie); any valid one admits it. */
export function tokensOf(req: IncomingMessage, url: URL, port: number): string[] {
  const out: string[] = [];
  const q = url.searchParams.get('token');
  if (q) out.push(q);
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) out.push(auth.slice(7).trim());
  const h = req.headers['x-agentos-token'];
  if (typeof h === 'string') out.push(h);
  const c = cookieValue(req, cookieName(port));
  if (c) out.push(c);
  return out;
}

/** Constant-time comparison (for equal lengths; a length mismatch is refused at once). */
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
