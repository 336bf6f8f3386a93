/**
 * The dashboard server: one node:http server for the page, its JSON API, /metrics and the WebSocket
 * (ws, same port, path /ws). It shows one RunView at a time (live or replayed); runs started from the page
 * go through the `startRun` callback the CLI gives it, so the server itself never builds a kernel.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../paths.js';
import type { RunMetricsExporter } from '../observe/prometheus.js';
import { ClientHub, type HubOptions, type HubStats } from './client-hub.js';
import type { RunView } from './run-view.js';
import { hostAllowed, newToken, originAllowed, tokenCookie, tokenMatches, tokensOf } from './security.js';

const WEB_ROOT = join(PACKAGE_ROOT, 'src', 'dashboard', 'web');

export const startRunSchema = z
  .object({
    goal: z.string().trim().min(1, 'goal must not be empty').max(500, 'goal is at most 500 characters'),
    inject: z.boolean().default(false),
    /** The repository to work on (a directory on the machine running the dashboard); absent: the default. */
    repo: z.string().trim().max(1000, 'repo is at most 1000 characters').optional().transform((r) => (r === '' ? undefined : r)),
  })
  .strict();
export type StartRunRequest = z.output<typeof startRunSchema>;

export interface DashboardOptions extends HubOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  mode: 'live' | 'replay';
  /** Start a run from the page; undefined: the page cannot start runs (replay). */
  startRun?: (req: StartRunRequest) => Promise<{ run_id: string }>;
}

const STATIC: Record<string, string> = {
  '/app.js': 'text/javascript; charset=utf-8',
  '/style.css': 'text/css; charset=utf-8',
};

export class DashboardServer {
  /** Required on every host, loopback included (see security.ts). */
  readonly token: string;
  readonly host: string;
  port = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly hub: ClientHub;
  private view: RunView | undefined;
  private metrics: RunMetricsExporter | undefined;
  private running = false;
  private starting = false;

  private constructor(private readonly opts: DashboardOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.token = newToken();
    this.hub = new ClientHub(opts);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.reply(res, 500, { error: (err as Error).message }));
    });
    this.http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws' || !this.allowed(req, url)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        // The page never needs to send anything: input on the socket is ignored.
        ws.on('message', () => {});
        this.hub.add(ws);
      });
    });
  }

  static async start(opts: DashboardOptions): Promise<DashboardServer> {
    const s = new DashboardServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(opts.port ?? 0, s.host, () => {
        s.http.off('error', reject);
        resolve();
      });
    });
    s.port = (s.http.address() as AddressInfo).port;
    s.hub.setView(undefined, s.hello());
    return s;
  }

  /** The URL to print, with the token (the page trades it for a cookie on first load). */
  get url(): string {
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${h}:${this.port}/?token=${this.token}`;
  }

  get hubStats(): HubStats {
    return this.hub.stats;
  }

  private hello(): Record<string, unknown> {
    return { mode: this.opts.mode, can_start: this.opts.startRun !== undefined && !this.running && !this.starting, running: this.running };
  }

  /** Show this run (live or replayed) from now on. */
  setView(view: RunView, metrics?: RunMetricsExporter): void {
    this.view = view;
    this.metrics = metrics;
    this.hub.setView(view, this.hello());
  }

  /** Whether a run is in progress (the page cannot start another meanwhile). */
  setRunning(running: boolean): void {
    this.running = running;
    this.hub.updateHello(this.hello());
  }

  private allowed(req: IncomingMessage, url: URL): boolean {
    if (!hostAllowed(req, this.host, this.port) || !originAllowed(req)) return false;
    return tokensOf(req, url, this.port).some((t) => tokenMatches(this.token, t));
  }

  private reply(res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8', extra: Record<string, string> = {}): void {
    if (res.headersSent) return;
    res.writeHead(status, {
      ...extra,
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!this.allowed(req, url)) {
      this.reply(res, 403, { error: 'forbidden: open the URL printed at start-up (it carries ?token=...), or send the token as Authorization: Bearer / X-AgentOS-Token; on loopback the Host must name loopback and a browser Origin must be this page' });
      return;
    }
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html') && url.searchParams.has('token')) {
      // The printed URL: trade the token for the page's cookie and drop it from the address bar (a
      // redirect, so the URL with the token is not the page the browser keeps in its history).
      this.reply(res, 303, '', 'text/plain; charset=utf-8', { location: '/', 'set-cookie': tokenCookie(this.port, this.token) });
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      const html = readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
      this.reply(res, 200, html, 'text/html; charset=utf-8');
      return;
    }
    const type = STATIC[path];
    if (req.method === 'GET' && type) {
      this.reply(res, 200, readFileSync(join(WEB_ROOT, path.slice(1)), 'utf8'), type);
      return;
    }
    if (req.method === 'GET' && path === '/api/state') {
      this.reply(res, 200, this.view?.snapshot() ?? null);
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      if (!this.metrics) {
        this.reply(res, 200, '# no run yet\n', 'text/plain; version=0.0.4; charset=utf-8');
        return;
      }
      this.reply(res, 200, await this.metrics.text(), this.metrics.contentType);
      return;
    }
    if (path === '/api/run') {
      if (req.method !== 'POST') {
        this.reply(res, 405, { error: 'POST a JSON body {"goal": "...", "inject": true|false, "repo": "path (optional)"}' });
        return;
      }
      await this.startRun(req, res);
      return;
    }
    this.reply(res, 404, { error: `no such page: ${path}` });
  }

  private async startRun(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      this.reply(res, 415, { error: 'send application/json' });
      return;
    }
    let raw = '';
    for await (const chunk of req) {
      raw += String(chunk);
      if (raw.length > 4096) {
        this.reply(res, 413, { error: 'request body too large (4 KiB at most)' });
        return;
      }
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      this.reply(res, 400, { error: 'body is not JSON' });
      return;
    }
    const parsed = startRunSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      this.reply(res, 400, { error: `${issue.path.join('.') || 'body'}: ${issue.message}` });
      return;
    }
    if (!this.opts.startRun) {
      this.reply(res, 409, { error: 'this dashboard shows a finished run; it cannot start runs' });
      return;
    }
    if (this.running || this.starting) {
      this.reply(res, 409, { error: 'a run is in progress; wait for it to finish' });
      return;
    }
    this.starting = true;
    this.hub.updateHello(this.hello());
    try {
      const out = await this.opts.startRun(parsed.data);
      this.reply(res, 202, out);
    } catch (err) {
      this.reply(res, 400, { error: (err as Error).message });
    } finally {
      this.starting = false;
      this.hub.updateHello(this.hello());
    }
  }

  async close(): Promise<void> {
    this.hub.close();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
