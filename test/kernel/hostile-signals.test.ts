/**
 * An agent that signals its kernel or its reaper (test/fixtures/hostile): the run still ends on its own
 * with a record. SIGSTOP to the kernel: the reaper continues it (kernel.stopped). SIGKILL to the kernel:
 * the reaper ends every agent, writes a kernel_lost report.json and removes the control socket. SIGKILL or
 * SIGSTOP to the reaper: the kernel starts another or continues it. A second Ctrl-C forces the end.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, CLI, descendants, expectAllGone, readEvents, readJson, ROOT, runPids, waitFor, writePlan, type PlanTask } from '../helpers.js';

const HOSTILE = resolve(ROOT, 'test/fixtures/hostile');
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});
afterAll(cleanupTempDirs);

function start(tasks: PlanTask[]) {
  const { dir, plan } = writePlan(tasks);
  const runtime = join(dir, 'rt');
  mkdirSync(runtime, { mode: 0o700 });
  const runsDir = join(dir, 'runs');
  const sub = execa('node', [CLI, 'run', plan, '--agents', HOSTILE, '--runs-dir', runsDir], { reject: false, all: true, env: { AGENTOS_RUNTIME_DIR: runtime } });
  started.push(sub.pid!);
  let out = '';
  sub.all?.on('data', (c: Buffer) => (out += c.toString()));
  const runDir = (): string => join(runsDir, readdirSync(runsDir)[0]!);
  const events = () => (existsSync(runsDir) && readdirSync(runsDir).length > 0 ? readEvents(runDir()) : []);
  return { sub, runtime, runDir, events, out: () => out };
}

const sockets = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.sock'));

describe('an agent signals its kernel', () => {
  it('SIGSTOP: the reaper continues the kernel, the run ends on its own and records kernel.stopped', async () => {
    const r = start([
      { id: 'freeze', agent: 'stopper' },
      { id: 'spin', agent: 'busy' },
    ]);
    const res = await r.sub;
    expect(res.exitCode, res.all).toBe(1); // spin timed out: its 2 s timeout was enforced
    const report = readJson<RunReport>(join(r.runDir(), 'report.json'));
    const spin = report.tasks.find((t) => t.id === 'spin')!;
    expect(spin.state).toBe('failed');
    expect(spin.failures[0]).toMatchObject({ kind: 'timeout' });
    const stopped = report.incidents?.find((i) => i.type === 'kernel.stopped');
    expect(stopped, JSON.stringify(report.incidents)).toBeDefined();
    expect((stopped as { for_ms: number }).for_ms).toBeGreaterThanOrEqual(1000);
    expect(r.events().some((e) => e.type === 'kernel.stopped')).toBe(true);
    await expectAllGone(runPids(report));
    expect(sockets(r.runtime)).toEqual([]);
  });

  it('SIGKILL: the reaper ends every agent, writes a kernel_lost report and removes the control socket', async () => {
    const r = start([
      { id: 'spin', agent: 'busy' },
      { id: 'kill', agent: 'killer', input: { after_ms: 800 } },
    ]);
    await waitFor(() => r.events().some((e) => e.type === 'task.state' && e.task === 'spin' && e.state === 'running'), 30_000, 'spin running');
    await waitFor(() => sockets(r.runtime).length === 1, 10_000, 'the control socket');
    const procs = descendants(r.sub.pid!);
    const res = await r.sub;
    expect(res.signal).toBe('SIGKILL');
    await waitFor(() => readdirSync(r.runDir()).includes('report.json'), 15_000, 'report.json');
    const report = readJson<{ status: string; tasks: Array<{ id: string; state: string; agent: string }>; kernel: { pid: number } }>(join(r.runDir(), 'report.json'));
    expect(report.status).toBe('kernel_lost');
    expect(report.kernel.pid).toBe(r.sub.pid);
    expect(Object.fromEntries(report.tasks.map((t) => [t.id, t.state]))).toEqual({ spin: 'running', kill: 'running' });
    await expectAllGone(procs, 15_000);
    expect(sockets(r.runtime)).toEqual([]);
  });
});

describe('an agent signals the reaper', () => {
  it('SIGKILL: the kernel starts another reaper, which still ends everything when the kernel dies', async () => {
    const r = start([
      { id: 'hit', agent: 'reaper_killer' },
      { id: 'spin', agent: 'busy' },
    ]);
    await waitFor(() => r.events().some((e) => e.type === 'reaper.lost'), 30_000, 'reaper.lost');
    await waitFor(() => r.events().some((e) => e.type === 'task.state' && e.task === 'spin' && e.state === 'running'), 30_000, 'spin running');
    const procs = descendants(r.sub.pid!);
    expect(procs.length).toBeGreaterThanOrEqual(3); // the new reaper and the agents
    r.sub.kill('SIGKILL');
    await r.sub;
    await expectAllGone(procs, 15_000);
    await waitFor(() => readdirSync(r.runDir()).includes('report.json'), 15_000, 'report.json');
    expect(readJson<{ status: string }>(join(r.runDir(), 'report.json')).status).toBe('kernel_lost');
  });

  it('SIGSTOP: the kernel continues its reaper and records it', async () => {
    const r = start([
      { id: 'hit', agent: 'reaper_killer', input: { signal: 'SIGSTOP' } },
      { id: 'spin', agent: 'busy' }, // keeps the run going past the kernel's next look at its reaper
    ]);
    await waitFor(() => r.events().some((e) => e.type === 'reaper.stopped'), 30_000, 'reaper.stopped');
    const res = await r.sub;
    expect(res.exitCode, res.all).toBe(1); // spin's timeout
    const report = readJson<RunReport>(join(r.runDir(), 'report.json'));
    expect(report.incidents?.map((i) => i.type)).toContain('reaper.stopped');
    await expectAllGone(runPids(report));
  });
});

describe('a second interrupt', () => {
  it('forces the end of agents that ignore SIGTERM and still writes the report', async () => {
    const r = start([{ id: 'stuck', agent: 'stubborn' }]);
    await waitFor(() => r.events().some((e) => e.type === 'task.state' && e.task === 'stuck' && e.state === 'running'), 30_000, 'stuck running');
    const procs = descendants(r.sub.pid!);
    r.sub.kill('SIGINT');
    await waitFor(() => r.events().some((e) => e.type === 'run.interrupted'), 10_000, 'run.interrupted');
    r.sub.kill('SIGINT');
    const res = await r.sub; // without the second: a minute of kill grace
    expect(res.exitCode, res.all).toBe(130);
    const report = readJson<RunReport>(join(r.runDir(), 'report.json'));
    expect(report.status).toBe('interrupted');
    expect(report.incidents?.map((i) => i.type)).toContain('run.forced');
    await expectAllGone([...procs, ...runPids(report)]);
  }, 30_000);
});
