/** SIGINT mid-run and a SIGKILLed kernel: the report is written (SIGINT) and no process is left behind. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, descendants, expectAllGone, FIXTURE_AGENTS, readEvents, readJson, runPids, startCli, waitFor, writePlan } from '../helpers.js';

const started: number[] = [];
afterEach(() => {
  // Safety net if an assertion failed half-way: end whatever a test left (by pid, never by name).
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
afterAll(cleanupTempDirs);

function startPlan(tasks: Parameters<typeof writePlan>[0]) {
  const { dir, plan } = writePlan(tasks);
  const reportFile = join(dir, 'report.json');
  const sub = startCli(['run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile]);
  let output = '';
  sub.all?.on('data', (c: Buffer) => (output += c.toString()));
  return { sub, reportFile, out: () => output };
}

describe('SIGINT', () => {
  it('stops every agent, writes an interrupted report, exits 130', async () => {
    const { sub, reportFile, out } = startPlan([
      { id: 'done', agent: 'ok_agent' },
      { id: 'long1', agent: 'slow_agent', deps: ['done'], input: { ms: 60_000 } },
      { id: 'long2', agent: 'slow_agent', deps: ['done'], input: { ms: 60_000 } },
      { id: 'spin', agent: 'spin_agent', deps: ['done'] },
      { id: 'never', agent: 'ok_agent', deps: ['long1'] },
    ]);
    started.push(sub.pid!);
    await waitFor(() => (out().match(/running on (slow_agent|spin_agent)/g) ?? []).length >= 3, 30_000, 'three long tasks running');
    const procs = descendants(sub.pid!);
    // ps/top show who is who: process titles name the agent, the instance and the run
    const titles = [sub.pid!, ...procs].map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0+/g, ' ').trim());
    const run = /agentos-kernel run=(\w+)/.exec(titles[0]!)?.[1];
    expect(run, titles.join('\n')).toBeDefined();
    for (const want of ['slow_agent#1', 'slow_agent#2', 'spin_agent#1', 'ok_agent#1']) {
      expect(titles).toContainEqual(expect.stringMatching(new RegExp(`^agentos-agent ${want} run=${run}`)));
    }
    expect(titles).toContainEqual(expect.stringMatching(new RegExp(`^agentos-reaper run=${run}`)));
    sub.kill('SIGINT');
    const res = await sub;
    expect(res.exitCode, res.all).toBe(130);
    expect(existsSync(reportFile)).toBe(true);
    const report = readJson<RunReport>(reportFile);
    expect(report.status).toBe('interrupted');
    const state = Object.fromEntries(report.tasks.map((t) => [t.id, t.state]));
    expect(state.done).toBe('succeeded');
    for (const id of ['long1', 'long2', 'spin', 'never']) expect(state[id]).toBe('skipped');
    expect(report.tasks.find((t) => t.id === 'long1')!.error).toMatchObject({ kind: 'interrupted' });
    // the output of finished work is kept
    expect(report.tasks.find((t) => t.id === 'done')!.output).toMatchObject({ task: 'done' });
    await expectAllGone([...procs, ...runPids(report)]);
  });
});

describe('SIGHUP (terminal closed)', () => {
  it('is handled like SIGTERM: every agent stopped, an interrupted report, events kept, exit 129', async () => {
    const { sub, reportFile, out } = startPlan([
      { id: 'done', agent: 'ok_agent' },
      { id: 'long', agent: 'slow_agent', deps: ['done'], input: { ms: 60_000 } },
    ]);
    started.push(sub.pid!);
    await waitFor(() => /running on slow_agent/.test(out()), 30_000, 'the long task running');
    const procs = descendants(sub.pid!);
    sub.kill('SIGHUP');
    const res = await sub;
    expect(res.exitCode, res.all).toBe(129);
    const report = readJson<RunReport>(reportFile);
    expect(report.status).toBe('interrupted');
    expect(report.tasks.find((t) => t.id === 'long')!.state).toBe('skipped');
    const types = readEvents(report.run_dir).map((e) => e.type);
    expect(types).toContain('run.interrupted');
    expect(types.at(-1)).toBe('run.finished');
    await expectAllGone([...procs, ...runPids(report)]);
  });
});

describe('SIGKILL of the kernel', () => {
  it('leaves no agent behind, not even a busy-looping one', async () => {
    const { sub, out } = startPlan([
      { id: 'spin', agent: 'spin_agent' },
      { id: 'idle', agent: 'slow_agent', input: { ms: 60_000 } },
    ]);
    started.push(sub.pid!);
    await waitFor(() => /spin_agent: spinning/.test(out()) && /running on slow_agent/.test(out()), 30_000, 'agents busy');
    const procs = descendants(sub.pid!);
    expect(procs.length).toBeGreaterThanOrEqual(3); // reaper + spin + slow (x2 instances)
    sub.kill('SIGKILL');
    await sub;
    await expectAllGone(procs, 15_000);
  });
});
