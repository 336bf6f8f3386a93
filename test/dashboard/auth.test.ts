/**
 * The dashboard's token on loopback (any local user can reach 127.0.0.1, and POST /api/run runs code as
 * the dashboard's owner): nothing without it, the printed URL trades it for an HttpOnly SameSite=Strict
 * cookie and redirects to `/`, and the cookie admits the page, the WebSocket and actions.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DashboardServer, type StartRunRequest } from '../../src/dashboard/server.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';
import { startWatched } from '../observe/live.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const servers: DashboardServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(() => cleanupTempDirs());

async function liveServer(): Promise<{ server: DashboardServer; started: StartRunRequest[] }> {
  const started: StartRunRequest[] = [];
  const server = await DashboardServer.start({
    mode: 'live',
    startRun: async (req) => {
      started.push(req);
      return { run_id: 'R1' };
    },
  });
  servers.push(server);
  return { server, started };
}

const post = (url: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ goal: 'repair the failing tests' }) });

function wsStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => resolve(-1));
  });
}

describe('dashboard token on loopback', () => {
  it('refuses the page, state, metrics, WebSocket and actions without the token on 127.0.0.1', async () => {
    const { server, started } = await liveServer();
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{32}$`));
    const base = `http://127.0.0.1:${server.port}`;
    for (const path of ['/', '/index.html', '/app.js', '/style.css', '/api/state', '/metrics', '/?token=wrong']) expect((await fetch(base + path)).status, path).toBe(403);
    expect((await post(`${base}/api/run`)).status).toBe(403);
    expect((await post(`${base}/api/run`, { 'x-agentos-token': 'x'.repeat(32) })).status).toBe(403);
    expect((await post(`${base}/api/run`, { cookie: `agentos_token_${server.port}=${'y'.repeat(32)}` })).status).toBe(403);
    // a cookie of another dashboard (another port) does not open this one
    expect((await post(`${base}/api/run`, { cookie: `agentos_token_${server.port + 1}=${server.token}` })).status).toBe(403);
    expect(await wsStatus(`ws://127.0.0.1:${server.port}/ws`)).toBe(403);
    expect(started).toEqual([]); // nothing ran
  });

  it('trades the printed URL for an HttpOnly SameSite=Strict cookie and a redirect; the cookie admits page, WebSocket and actions', async () => {
    const { server, started } = await liveServer();
    const base = `http://127.0.0.1:${server.port}`;
    const first = await fetch(server.url, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const setCookie = first.headers.get('set-cookie')!;
    expect(setCookie).toBe(`agentos_token_${server.port}=${server.token}; HttpOnly; SameSite=Strict; Path=/`);
    expect(first.headers.get('referrer-policy')).toBe('no-referrer');
    const cookie = { cookie: setCookie.split(';')[0]! };

    expect((await fetch(`${base}/api/state`, { headers: cookie })).status).toBe(200);
    expect(await wsStatus(`ws://127.0.0.1:${server.port}/ws`, cookie)).toBe(101);

    // An action with the cookie from another site's page is still refused (Origin), with it from ours runs.
    expect((await post(`${base}/api/run`, { ...cookie, origin: 'http://evil.example' })).status).toBe(403);
    expect(started).toEqual([]);
    const ok = await post(`${base}/api/run`, { ...cookie, origin: base });
    expect(ok.status).toBe(202);
    expect(started.map((r) => r.goal)).toEqual(['repair the failing tests']);
    // Scripts and tools still use the header forms.
    expect((await fetch(`${base}/api/state`, { headers: { authorization: `Bearer ${server.token}` } })).status).toBe(200);
    expect((await fetch(`${base}/metrics?token=${server.token}`)).status).toBe(200);
  });

  it('agentos dashboard: a local request without the token cannot start a run; the printed URL opens the page', async () => {
    const runsDir = join(tempDir(), 'runs');
    const cli = startWatched(['dashboard', '--runs-dir', runsDir]);
    try {
      const url = new URL((await cli.waitLine(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/))[1]!);
      await cli.waitLine(/waiting for the page/);
      const res = await post(`${url.origin}/api/run`);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toContain('token');
      expect(existsSync(runsDir) ? readdirSync(runsDir) : []).toEqual([]);
      // The page opened from the printed URL: a redirect with the cookie, then the page and its assets.
      const first = await fetch(url, { redirect: 'manual' });
      expect(first.status).toBe(303);
      const cookie = { cookie: first.headers.get('set-cookie')!.split(';')[0]! };
      const page = await fetch(`${url.origin}/`, { headers: cookie });
      expect(page.status).toBe(200);
      expect(await page.text()).not.toContain(url.searchParams.get('token')!); // the page never carries the token
      for (const asset of ['/app.js', '/style.css']) expect((await fetch(url.origin + asset, { headers: cookie })).status, asset).toBe(200);
    } finally {
      cli.proc.kill('SIGINT');
    }
    expect((await cli.proc).exitCode).toBe(0);
  });
});
