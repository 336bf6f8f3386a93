/**
 * `agentos resume` end to end, real processes: a Ctrl-C'd run is resumable and ends with one valid
 * report (resumed history, journal as source), trace and dashboard replay; refusals (exit 2) of a
 * finished run, a live run, and a run whose agent changed (unless --allow-changed).
 */
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRunDir } from '../../src/dashboard/replay.js';
import type { RunReport } from '../../src/observe/report.js';
import { FIXTURE_AGENTS, cleanupTempDirs, expectAllGone, readJson, runCli, runPids, startCli, waitFor, writePlan } from '../helpers.js';

afterEach(() => cleanupTempDirs());

function plan(n: number, ms: number, file: (dir: string) => string) {
  return (dir: string) => Array.from({ length: n }, (_, i) => ({ id: `t${i}`, agent: 'journal_agent', deps: i > 0 ? [`t${i - 1}`] : [], input: { file: file(dir), ms } }));
}

function setup(n: number, ms: number, agents = FIXTURE_AGENTS) {
  const { dir, plan: planFile } = writePlan([]);
  writeFileSync(planFile, JSON.stringify({ name: 'resume-test', tasks: plan(n, ms, (d) => join(d, 'side.txt'))(dir) }));
  const runs = join(dir, 'runs');
  const runDir = (): string => join(runs, readdirSync(runs)[0]!);
  return { dir, planFile, runs, runDir, args: ['run', planFile, '--agents', agents, '--runs-dir', runs, '--quiet'] };
}

const sideLines = (dir: string): string[] => (existsSync(join(dir, 'side.txt')) ? readFileSync(join(dir, 'side.txt'), 'utf8').split('\n').filter(Boolean) : []);

describe('agentos resume', () => {
  it('resumes a Ctrl-C’d run to one valid report, trace and dashboard replay; then refuses it as finished', async () => {
    const s = setup(8, 150);
    const run = startCli(s.args);
    await waitFor(() => sideLines(s.dir).length >= 3, 30_000, 'three tasks to start');
    run.kill('SIGINT');
    const first = await run;
    expect(first.exitCode, first.all).toBe(130);
    const before = readJson<RunReport>(join(s.runDir(), 'report.json'));
    expect(before.status).toBe('interrupted');
    const doneBefore = before.tasks.filter((t) => t.state === 'succeeded').map((t) => t.id);
    expect(doneBefore.length).toBeGreaterThan(0);

    const res = await runCli(['resume', s.runDir(), '--quiet']);
    expect(res.exitCode, res.all).toBe(0);
    const report = readJson<RunReport>(join(s.runDir(), 'report.json'));
    expect(report).toMatchObject({ status: 'succeeded', source: 'journal', run_id: before.run_id, started_at: before.started_at });
    expect(report.resumed).toHaveLength(1);
    expect(report.tasks.every((t) => t.state === 'succeeded')).toBe(true);
    // Succeeded before the stop: never run again.
    const lines = sideLines(s.dir).map((l) => l.split(' ')[0]);
    for (const id of doneBefore) expect(lines.filter((l) => l === id), id).toHaveLength(1);
    await expectAllGone(runPids(report));

    const trace = readJson<{ traceEvents: unknown[] }>(join(s.runDir(), 'trace.json'));
    expect(trace.traceEvents.length).toBeGreaterThan(0);
    const loaded = loadRunDir(s.runDir());
    expect(loaded.hasReport).toBe(true);
    const view = loaded.view.snapshot();
    expect(view.tasks.map((t) => t.id).sort()).toEqual(report.tasks.map((t) => t.id).sort());
    expect(view.tasks.every((t) => t.state === 'succeeded')).toBe(true);

    const again = await runCli(['resume', s.runDir()]);
    expect(again.exitCode).toBe(2);
    expect(again.all).toMatch(/complete/);
  }, 90_000);

  it('refuses a run held by a live kernel', async () => {
    const s = setup(4, 20_000); // long tasks: the run is surely still live when resume asks, however loaded the machine
    const run = startCli(s.args);
    try {
      await waitFor(() => sideLines(s.dir).length >= 1, 30_000, 'the first task');
      const res = await runCli(['resume', s.runDir()]);
      expect(res.exitCode, res.all).toBe(2);
      expect(res.all).toMatch(/held by a live kernel \(pid \d+/);
    } finally {
      run.kill('SIGKILL');
      await run;
    }
  }, 60_000);

  it('refuses a run whose agent changed since it started, unless --allow-changed', async () => {
    const { dir: agentsDir } = writePlan([]);
    const agents = join(agentsDir, 'agents');
    cpSync(join(FIXTURE_AGENTS, 'journal_agent'), join(agents, 'journal_agent'), { recursive: true });
    const s = setup(6, 300, agents);
    const run = startCli(s.args);
    await waitFor(() => sideLines(s.dir).length >= 2, 30_000, 'two tasks to start');
    run.kill('SIGKILL');
    await run;
    const handler = join(agents, 'journal_agent', 'handler.js');
    writeFileSync(handler, `${readFileSync(handler, 'utf8')}\n// changed\n`);
    const res = await runCli(['resume', s.runDir()]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.all).toMatch(/changed since the run started: agent journal_agent \(handler\.js\)/);
    const ok = await runCli(['resume', s.runDir(), '--allow-changed', '--quiet']);
    expect(ok.exitCode, ok.all).toBe(0);
    expect(readJson<RunReport>(join(s.runDir(), 'report.json')).status).toBe('succeeded');
  }, 90_000);
});
