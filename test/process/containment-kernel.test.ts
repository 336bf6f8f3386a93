/**
 * Containment integrated in the kernel, end to end through the real CLI: descendants that left the
 * process group or session die with the attempt (cgroup.kill, or the /proc walk and env tag without
 * cgroups), the report says which mechanism held each agent, the cgroup memory limit holds at the byte
 * and is told apart from a crash, the pids limit stops a fork bomb, the cgroups are removed at the end,
 * the sampler holds no handle for dead descendants (and survives a low fd limit), and logs are capped.
 * Tests that need a cgroup skip with a printed notice where none is writable.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { detect } from '../../src/process/containment/detect.js';
import { cleanupTempDirs, CLI, expectAllGone, pidAlive, readEvents, readJson, ROOT, runCli, runPids, startCli, waitFor, writePlan, type PlanTask } from '../helpers.js';
import { execa } from 'execa';

const caps = detect();
const cgroups = caps.plan.mechanism !== 'proc-walk';
const memoryCg = caps.plan.memory !== 'rss-sample';
const pidsCg = caps.plan.pids !== 'none';
if (!cgroups) console.log(`[containment-kernel] no writable cgroup here (${caps.notes.join('; ')}): cgroup tests skipped`);

const AGENTS = join(ROOT, 'test/fixtures/hostile-agents');
const leftovers: number[] = [];
afterEach(() => {
  for (const p of leftovers.splice(0)) if (pidAlive(p)) process.kill(p, 'SIGKILL');
  delete process.env.AGENTOS_CONTAINMENT;
});
afterAll(cleanupTempDirs);

async function run(tasks: PlanTask[], opts: { shell?: string; extra?: string[] } = {}) {
  const { dir, plan } = writePlan(tasks);
  const reportFile = join(dir, 'report.json');
  const args = ['run', plan, '--agents', AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile, ...(opts.extra ?? [])];
  const res = opts.shell
    ? await execa('/bin/sh', ['-c', `${opts.shell}; exec node "$@"`, 'sh', CLI, ...args], { reject: false, all: true, timeout: 90_000 })
    : await runCli(args, { timeoutMs: 90_000 });
  const report = existsSync(reportFile) ? readJson<RunReport>(reportFile) : undefined;
  expect(report, res.all).toBeDefined();
  return { res, report: report!, runDir: join(dir, 'runs', report!.run_id), dir };
}

const escapedPidsOf = (events: Array<Record<string, unknown>>): number[] =>
  events.filter((e) => e.type === 'task.log' && e.msg === 'escaped').flatMap((e) => (e.data as { pids: number[] }).pids);
const escapedPids = (runDir: string): number[] => escapedPidsOf(readEvents(runDir));

/** No cgroup directory of this run is left in any hierarchy. */
function noCgroupsLeft(report: RunReport): void {
  for (const a of report.containment!.agents) for (const d of a.cgroups) expect(existsSync(d), d).toBe(false);
}

describe('descendants that leave the group or session end with the attempt', () => {
  it.skipIf(!cgroups)('with cgroups: cgroup.kill ends the detached and the double-forked helper; report names the mechanism', async () => {
    const { report, runDir } = await run([{ id: 't1', agent: 'escaper' }]);
    const pids = escapedPids(runDir);
    leftovers.push(...pids);
    expect(pids).toHaveLength(2);
    expect(report.tasks[0]!.failures[0]!.kind).toBe('timeout');
    for (const p of pids) expect(pidAlive(p), `helper ${p} outlived the run`).toBe(false);
    const c = report.containment!;
    expect(c.mechanism).toBe(caps.plan.mechanism);
    expect(c.agents[0]).toMatchObject({ agent: 'escaper', mechanism: caps.plan.mechanism, kill: caps.plan.kill });
    expect(c.escaped).toEqual([]); // the cgroup held them: nothing was outside it
    noCgroupsLeft(report);
    await expectAllGone(runPids(report));
  });

  it('without cgroups (proc-walk): the walk and the env tag find them; the report says proc-walk', async () => {
    process.env.AGENTOS_CONTAINMENT = 'proc-walk';
    const { report, runDir } = await run([{ id: 't1', agent: 'escaper' }]);
    const pids = escapedPids(runDir);
    leftovers.push(...pids);
    expect(pids).toHaveLength(2);
    for (const p of pids) expect(pidAlive(p), `helper ${p} outlived the run`).toBe(false);
    expect(report.containment!.agents[0]).toMatchObject({ mechanism: 'proc-walk', cgroups: [] });
    await expectAllGone(runPids(report));
  });
});

describe('a SIGKILLed kernel', () => {
  it.skipIf(!cgroups)('its agents and their escaped helpers die by the reaper\'s cgroup.kill; the next run removes its cgroups', async () => {
    const { dir, plan } = writePlan([{ id: 't1', agent: 'lingerer' }]);
    const runs = join(dir, 'runs');
    const cli = startCli(['run', plan, '--agents', AGENTS, '--runs-dir', runs]);
    const events = (): Array<Record<string, unknown>> => (existsSync(runs) ? readdirSync(runs).flatMap((r) => readEvents(join(runs, r))) : []);
    await waitFor(() => escapedPidsOf(events()).length === 2, 30_000, 'the helpers to start');
    const helpers = escapedPidsOf(events());
    leftovers.push(...helpers);
    const agentPid = Number(events().find((e) => e.type === 'process.ready')!.pid);
    const runId = readdirSync(runs)[0]!;
    const stale = readdirSync(caps.v2!.own_dir).filter((n) => n.startsWith(`agentos-${runId}.k${cli.pid}.`));
    expect(stale).toHaveLength(1);
    process.kill(cli.pid!, 'SIGKILL');
    await cli;
    await expectAllGone([agentPid, ...helpers]);
    // The directories stay until a kernel starts: its reapStale removes them. Any kernel of this machine
    // sweeps stale cgroups of dead kernels (vitest runs files one at a time, but other runs may share the
    // machine), so who removed them is asserted when they were still there for the next run.
    const staleDir = join(caps.v2!.own_dir, stale[0]!);
    const leftForNext = existsSync(staleDir);
    const next = await run([{ id: 'q', agent: 'quick' }]);
    expect(next.res.exitCode, next.res.all).toBe(0);
    expect(existsSync(staleDir)).toBe(false);
    const reaped = readEvents(next.runDir).find((e) => e.type === 'containment.reaped');
    const removedByNext = ((reaped?.removed as string[] | undefined) ?? []).includes(staleDir);
    if (leftForNext) expect(removedByNext, `${staleDir} was left for the next run, which did not report removing it`).toBe(true);
  });
});

describe('limits', () => {
  it.skipIf(!memoryCg)('an allocation faster than any sampler tick is stopped at the cgroup limit: memory, not crash', async () => {
    const { report } = await run([{ id: 'm', agent: 'hog' }], { extra: ['--sample-ms', '60000'] });
    const f = report.tasks[0]!.failures[0]!;
    expect(f.kind).toBe('memory');
    expect(f.message).toMatch(/OOM-killed by the kernel at the cgroup memory limit of 128 MB/);
    expect(report.containment!.agents[0]!.oom_kills).toBeGreaterThan(0);
    noCgroupsLeft(report);
    await expectAllGone(runPids(report));
  });

  it.skipIf(!pidsCg)('pids_max stops a fork bomb: spawns are refused, the agent lives, nothing is left', async () => {
    const { report } = await run([{ id: 'b', agent: 'bomb' }]);
    const t = report.tasks[0]!;
    expect(t.state, JSON.stringify(t.failures)).toBe('succeeded');
    const out = t.output as { started: number; refused: number };
    expect(out.refused).toBeGreaterThan(0);
    expect(out.started).toBeLessThan(48);
    noCgroupsLeft(report);
    await expectAllGone(runPids(report));
  });
});

describe('the quota sampler', () => {
  it.each(['auto', 'proc-walk'])('(%s) counts a descendant started from a worker thread that left the session', async (mode) => {
    process.env.AGENTOS_CONTAINMENT = mode;
    const { report, runDir } = await run([{ id: 'w', agent: 'thread_hog' }], { extra: ['--sample-ms', '50'] });
    const gc = readEvents(runDir).find((e) => e.type === 'task.log' && e.msg === 'grandchild');
    const gcPid = (gc?.data as { pid: number } | undefined)?.pid;
    if (gcPid) leftovers.push(gcPid);
    const f = report.tasks[0]!.failures[0]!;
    expect(f.kind, f.message).toBe('memory');
    expect(gcPid).toBeGreaterThan(0);
    await expectAllGone([...runPids(report), gcPid!]);
  });

  it('holds no handle for dead descendants, and a low fd limit does not stop the kernel', async () => {
    const tasks = [{ id: 'tests', agent: 'churner', input: { secs: 4 } }, { id: 'after', agent: 'flaky_abort', deps: ['tests'] }];
    const { res, report } = await run(tasks, { shell: 'ulimit -n 256', extra: ['--sample-ms', '50'] });
    expect(res.exitCode, res.all).toBe(0);
    const out = report.tasks[0]!.output as { children_started: number; kernel_proc_stat_fds: number };
    expect(out.children_started).toBeGreaterThan(50);
    expect(out.kernel_proc_stat_fds).toBe(0);
    expect(report.tasks[1]!.attempts).toBe(2); // the replacement spawned fine
    expect(report.sampler!.ticks).toBeGreaterThan(10);
    await expectAllGone(runPids(report));
  });
});

describe('agent logs are capped', () => {
  it('log_max_mb: stdout (the child writes the file itself) and stderr rotate to one .1 generation', async () => {
    const { report, runDir } = await run([{ id: 'c', agent: 'chatty', input: { mb: 8 } }], { extra: ['--sample-ms', '50'] });
    expect(report.tasks[0]!.state).toBe('succeeded');
    const logs = join(runDir, 'logs');
    const files = readdirSync(logs);
    expect(files).toContain('chatty#1.log.1');
    const MiB = 2 ** 20;
    // the cap plus what can arrive between two checks (one MiB of stderr, one sampler tick of stdout)
    for (const f of files) expect(statSync(join(logs, f)).size, f).toBeLessThanOrEqual(3 * MiB);
    expect(statSync(join(logs, 'chatty#1.log.1')).size).toBeLessThanOrEqual(1 * MiB);
    const rotated = readEvents(runDir).filter((e) => e.type === 'log.rotated');
    expect(rotated.length).toBeGreaterThan(3);
    await expectAllGone(runPids(report));
  });
});
