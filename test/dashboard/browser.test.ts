import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, expectAllGone, CRASH_DEMO_AGENTS, FIXTURE_AGENTS, readJson, ROOT, runPids, tempDir } from '../helpers.js';
import { gatedDemoPlan, parseProm, startWatched, sum } from '../observe/live.js';
import { ARTIFACTS, CHROMIUM, chromiumPids, launchBrowser } from './browser.js';

let browser: Browser;
let browserPids: number[] = [];
beforeAll(async () => {
  process.env.AGENTOS_RUNTIME_DIR = tempDir('agentos-rt-');
  if (!CHROMIUM) return; // skipped below, with the notice test/optional.ts printed
  browser = await launchBrowser();
  browserPids = chromiumPids();
});
afterAll(async () => {
  await browser?.close();
  await expectAllGone(browserPids);
  delete process.env.AGENTOS_RUNTIME_DIR;
  cleanupTempDirs();
});

const DASHBOARD_LINE = /^dashboard: (http:\/\/\S+\?token=[A-Za-z0-9_-]+)$/;
const taskState = (page: Page, id: string): Promise<string | null> => page.locator(`#dag .node[data-task="${id}"]`).getAttribute('data-state');

async function allTasks(page: Page, ids: string[], state: string, timeout = 30_000): Promise<void> {
  for (const id of ids) await page.locator(`#dag .node[data-task="${id}"][data-state="${state}"]`).waitFor({ timeout });
}

let finishedRunDir = '';

describe.skipIf(!CHROMIUM)('the dashboard in a real Chromium', { timeout: 120_000 }, () => {
  it('follows a live run with fault injection: tasks, retry, process table; a reload mid-run gets the state back', async () => {
    const { dir, plan, gate } = gatedDemoPlan({ spawn: 'audit' });
    const runsDir = join(dir, 'runs');
    const cli = startWatched(['run', plan, '--agents', CRASH_DEMO_AGENTS, '--agents', FIXTURE_AGENTS, '--inject', 'patch_agent:crash@1', '--inject', 'test_agent:hang@1', '--runs-dir', runsDir, '--dashboard', '0']);
    const url = (await cli.waitLine(DASHBOARD_LINE))[1]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/); // a token on loopback too
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    // The page traded the token for an HttpOnly cookie: gone from the address bar and the history entry,
    // and no script can read it.
    expect(page.url()).toBe(new URL('/', url).href);
    expect(await page.evaluate(() => [location.href, document.cookie, history.length])).toEqual([new URL('/', url).href, '', 2]);
    // The tab's history: the blank page it opened on, then the page; going back never reaches the token URL.
    await page.goBack();
    expect(page.url()).toBe('about:blank');
    await page.goForward();
    expect(page.url()).toBe(new URL('/', url).href);

    // Mid-run: the run waits at the gate; the page shows it live.
    await page.locator('#dag .node[data-task="gate"][data-state="running"]').waitFor({ timeout: 30_000 });
    expect(await taskState(page, 'plan')).toBe('succeeded');
    expect(await taskState(page, 'patch')).toBe('pending');
    expect(await page.locator('#dag .node[data-task="audit"]').count()).toBe(0); // not inserted yet
    await page.locator('#procs tr[data-agent="gate_agent"][data-state="busy"]').waitFor();
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('live');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-midrun.png'), fullPage: true });

    // Reload mid-run: the page comes back with the current state (snapshot), then goes on live.
    await page.reload();
    await page.locator('#dag .node[data-task="gate"][data-state="running"]').waitFor({ timeout: 10_000 });
    expect(await taskState(page, 'analyze')).toBe('succeeded');
    expect(await page.locator('#events tr[data-kind="run.started"]').count()).toBe(1);
    const procRows = await page.locator('#procs tr[data-pid]').evaluateAll((rows) => rows.map((r) => ({ pid: Number(r.getAttribute('data-pid')), agent: r.getAttribute('data-agent'), state: r.getAttribute('data-state') })));
    expect(procRows.map((r) => r.agent).sort()).toEqual(['analyzer', 'gate_agent', 'patch_agent', 'planner', 'report_agent', 'safe_patch_agent', 'test_agent']);
    expect(procRows.find((r) => r.agent === 'gate_agent')!.state).toBe('busy');

    // Let it go: every task reaches its final state, the retry is in the event log.
    writeFileSync(gate, 'open');
    await allTasks(page, ['plan', 'analyze', 'gate', 'patch', 'test', 'report', 'audit'], 'succeeded');
    await page.locator('#run-status[data-status="succeeded"]').waitFor({ timeout: 15_000 });
    // the task the gate inserted while running appears in the graph, after its parent
    expect(await page.locator('#dag .node[data-task="audit"] text').first().textContent()).toBe('audit +');
    await page.locator('#events tr[data-kind="task.added"][data-task="audit"]').waitFor();
    await page.locator('#events tr[data-kind="task.retry"][data-task="patch"]').waitFor();
    await page.locator('#events tr[data-kind="task.retry"][data-task="test"]').waitFor();
    await page.locator('#events tr[data-kind="task.failure"][data-task="patch"]').waitFor();
    expect(await page.locator('#dag .node[data-task="patch"] circle').count()).toBe(1); // one failed attempt
    // the crashed process and its replacement are both in the table
    await page.locator('#procs tr[data-agent="patch_agent"][data-state="crashed"]').waitFor();
    expect(await page.locator('#procs tr[data-agent="patch_agent"]').count()).toBe(2);
    expect(await page.locator('#outputs .summary-line').textContent()).toContain("fixed: 'a - b' -> 'a + b'");
    expect(await page.locator('#outputs [data-output="patch"] .diff').textContent()).toContain('+ a + b');

    // The event log filters by task.
    await page.selectOption('#f-task', 'patch');
    // the log redraws on the next animation frame
    await page.waitForFunction(() => [...document.querySelectorAll('#events tr')].every((r) => r.getAttribute('data-task') === 'patch'), undefined, { timeout: 5000 });
    const tasksShown = await page.locator('#events tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')));
    expect(tasksShown.length).toBeGreaterThan(3);
    expect(new Set(tasksShown)).toEqual(new Set(['patch']));
    await page.selectOption('#f-task', '');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-live.png'), fullPage: true });

    // The dashboard server's /metrics.
    const prom = parseProm(await (await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${new URL(url).searchParams.get('token')}` } })).text());
    expect(sum(prom.samples, 'agentos_tasks', { state: 'succeeded' })).toBe(7);
    expect(sum(prom.samples, 'agentos_faults_total', { kind: 'crash' })).toBe(1);
    expect(sum(prom.samples, 'agentos_faults_total', { kind: 'timeout' })).toBe(1);
    expect(sum(prom.samples, 'agentos_restarts_total')).toBe(2);
    expect(sum(prom.samples, 'agentos_task_attempts_total')).toBe(9);
    expect(errors).toEqual([]);
    await page.close();

    // The page stays up after the run until a signal; the command then exits with the run's status.
    cli.proc.kill('SIGTERM');
    const res = await cli.proc;
    expect(res.exitCode, res.all).toBe(0);
    const runId = readdirSync(runsDir)[0]!;
    finishedRunDir = join(runsDir, runId);
    const report = readJson<RunReport>(join(finishedRunDir, 'report.json'));
    expect(report.status).toBe('succeeded');
    await expectAllGone(runPids(report));
  });

  it('replays a finished run from its run directory', async () => {
    expect(finishedRunDir).not.toBe('');
    const cli = startWatched(['dashboard', '--run', finishedRunDir]);
    const url = (await cli.waitLine(DASHBOARD_LINE))[1]!;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(url);
    await allTasks(page, ['plan', 'analyze', 'gate', 'patch', 'test', 'report', 'audit'], 'succeeded');
    await page.locator('#run-status[data-status="succeeded"]').waitFor();
    await page.locator('#events tr[data-kind="task.retry"][data-task="patch"]').waitFor();
    expect(await page.locator('#run-form').isHidden()).toBe(true); // a replay cannot start runs
    // the final process table from report.json, RSS history rebuilt from the events
    expect(await page.locator('#procs tr[data-agent="patch_agent"]').count()).toBe(2);
    expect(await page.locator('#procs tr[data-agent="gate_agent"] .spark polyline').count()).toBeGreaterThan(0);
    expect(await page.locator('#outputs .summary-line').textContent()).toContain('fixed:');
    expect(await page.locator('#metrics [data-metric="tokens"]').textContent()).toBe('3800'); // from report.json
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-replay.png'), fullPage: true });
    cli.proc.kill('SIGINT');
    expect((await cli.proc).exitCode).toBe(0);

    // Paced: the run happens again on the page, at twice its own speed.
    const paced = startWatched(['dashboard', '--run', finishedRunDir, '--speed', '2']);
    await page.goto((await paced.waitLine(DASHBOARD_LINE))[1]!);
    await page.locator('#run-status[data-status="running"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#dag .node[data-state="succeeded"]').count()).toBeLessThan(7);
    await allTasks(page, ['plan', 'analyze', 'gate', 'patch', 'test', 'report', 'audit'], 'succeeded');
    await page.locator('#run-status[data-status="succeeded"]').waitFor({ timeout: 15_000 });
    await page.close();
    paced.proc.kill('SIGINT');
    expect((await paced.proc).exitCode).toBe(0);
  });

  it('beyond loopback requires the token for the page, the WebSocket and actions; the page starts a repair with fault injection', { timeout: 300_000 }, async () => {
    const runsDir = join(tempDir(), 'runs');
    const cli = startWatched(['dashboard', '--host', '127.0.0.2', '--port', '0', '--runs-dir', runsDir]);
    const url = new URL((await cli.waitLine(DASHBOARD_LINE))[1]!);
    const token = url.searchParams.get('token')!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const bare = `${url.origin}`;

    // Without the token (or with a wrong one): page, assets, state, metrics and actions are refused.
    for (const path of ['/', '/app.js', '/api/state', '/metrics', '/?token=wrong']) expect((await fetch(bare + path)).status, path).toBe(403);
    const post = (u: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post(`${bare}/api/run`, { goal: 'x', inject: true })).status).toBe(403);
    expect((await post(`${bare}/api/run`, { goal: 'x' }, { authorization: 'Bearer nope' })).status).toBe(403);
    const wsStatus = (u: string): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(u);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => resolve(-1));
      });
    expect(await wsStatus(`ws://${url.host}/ws`)).toBe(403);
    expect(await wsStatus(`ws://${url.host}/ws?token=wrong`)).toBe(403);
    expect(await wsStatus(`ws://${url.host}/ws?token=${token}`)).toBe(101);
    // Actions validate their input (with the token).
    const auth = { 'x-agentos-token': token };
    expect((await post(`${bare}/api/run`, { goal: '   ' }, auth)).status).toBe(400);
    expect((await post(`${bare}/api/run`, { goal: 'g', inject: 'yes' }, auth)).status).toBe(400);
    expect((await post(`${bare}/api/run`, { goal: 'g', plan: '/etc/passwd' }, auth)).status).toBe(400);
    expect((await post(`${bare}/api/run`, { goal: 'x'.repeat(501) }, auth)).status).toBe(400);
    expect((await post(`${bare}/api/run`, { goal: 'g' }, { ...auth, origin: 'http://evil.example' })).status).toBe(403);

    // In the browser: without the token the page is refused; with it, it connects.
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const refused = await page.goto(bare);
    expect(refused?.status()).toBe(403);
    await page.goto(url.href);
    expect(page.url()).toBe(`${bare}/`); // redirected: the token is not in the address bar
    const cookie = (await page.context().cookies()).find((c) => c.name === `agentos_token_${url.port}`);
    expect(cookie).toMatchObject({ value: token, httpOnly: true, sameSite: 'Strict', path: '/' });
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator('#run-btn:not([disabled])').waitFor();

    // A goal the planner cannot classify, or a repository that is not there: the planner's message, HTTP 400.
    const vague = await post(`${bare}/api/run`, { goal: 'make it nicer' }, auth);
    expect(vague.status).toBe(400);
    expect(((await vague.json()) as { error: string }).error).toContain('cannot tell what to do');
    const noRepo = await post(`${bare}/api/run`, { goal: 'fix the failing tests', repo: join(tempDir(), 'nope') }, auth);
    expect(noRepo.status).toBe(400);
    expect(((await noRepo.json()) as { error: string }).error).toContain('repository directory not found');
    await page.fill('#goal', 'make it nicer');
    await page.click('#run-btn');
    await page.waitForFunction(() => document.querySelector('#run-msg')?.textContent?.includes('cannot tell what to do'), undefined, { timeout: 10_000 });
    await page.locator('#run-btn:not([disabled])').waitFor();
    expect(await page.locator('#run-status').getAttribute('data-status')).toBe('none'); // nothing started

    // Start a repair from the page: goal, fault injection ticked (patch_agent crashes once), Run. The
    // planner classifies the goal and works on a fresh copy of examples/buggy_math in the run directory.
    await page.fill('#goal', 'fix the failing tests');
    await page.check('#inject');
    await page.click('#run-btn');
    await page.locator('#run-status[data-status="running"], #run-status[data-status="succeeded"]').waitFor({ timeout: 15_000 });
    await allTasks(page, ['plan', 'baseline', 'analyze', 'patch', 'test', 'report'], 'succeeded', 150_000);
    await page.locator('#run-status[data-status="succeeded"]').waitFor({ timeout: 30_000 });
    // the candidate test tasks the patch search inserted are in the graph, each in a final state
    const cands = await page.locator('#dag .node[data-task^="cand-"]').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-state')));
    expect(cands.length).toBeGreaterThan(0);
    for (const st of cands) expect(['succeeded', 'failed', 'cancelled', 'skipped']).toContain(st);
    await page.locator('#events tr[data-kind="task.added"][data-task^="cand-"]').first().waitFor();
    await page.locator('#events tr[data-kind="fault.injected"]').first().waitFor();
    await page.locator('#events tr[data-kind="task.retry"][data-task="patch"]').waitFor();
    expect(await page.locator('#outputs .summary-line').textContent()).toMatch(/^fixed: src\/stats\.js/);
    expect(await page.locator('#outputs [data-output="report"]').textContent()).toContain('sorted[mid - 1] + sorted[mid]');
    await page.locator('#run-btn:not([disabled])').waitFor(); // ready for the next run
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-started-run.png'), fullPage: true });
    await page.close();

    cli.proc.kill('SIGTERM');
    expect((await cli.proc).exitCode).toBe(0);
    const runDir = join(runsDir, readdirSync(runsDir)[0]!);
    const report = readJson<RunReport>(join(runDir, 'report.json'));
    expect(report.status).toBe('succeeded');
    expect(report.plan).toBe('goal:repair');
    expect(report.tasks.find((t) => t.id === 'patch')!.failures.map((f) => f.kind)).toEqual(['crash']);
    // the run worked on its own copy: the example in the package is untouched
    expect(readFileSync(join(ROOT, 'examples', 'buggy_math', 'src', 'stats.js'), 'utf8')).toContain('(sorted[mid - 1] - sorted[mid])');
    expect(readFileSync(join(runDir, 'out', 'patch.diff'), 'utf8')).toContain('sorted[mid - 1] + sorted[mid]');
    await expectAllGone(runPids(report));
  });

  it('shows the message bus of a run that uses it (examples/messages)', async () => {
    const runsDir = join(tempDir(), 'runs');
    const cli = startWatched(['run', join(ROOT, 'examples/messages/plan.yaml'), '--agents', join(ROOT, 'examples/messages/agents'), '--runs-dir', runsDir, '--dashboard', '0', '--quiet']);
    const url = (await cli.waitLine(DASHBOARD_LINE))[1]!;
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(url);
    await page.locator('#run-status[data-status="succeeded"]').waitFor({ timeout: 90_000 });
    const report = readJson<RunReport>(join(runsDir, readdirSync(runsDir)[0]!, 'report.json'));
    expect(report.bus!.messages_sent).toBeGreaterThan(0);
    // the panel shows the run report's bus figures once the run is over
    await page.waitForFunction((sent) => document.querySelector('#messages')?.textContent?.includes(`sent${sent}`), report.bus!.messages_sent, { timeout: 10_000 });
    expect(await page.locator('#messages').textContent()).toContain(`dead letters${report.bus!.dead_letter_count}`);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-messages.png'), fullPage: true });
    await page.close();
    cli.proc.kill('SIGTERM');
    expect((await cli.proc).exitCode).toBe(0);
    await expectAllGone(runPids(report));
  });
});
