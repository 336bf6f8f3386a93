/**
 * cgroup containment on real processes: the whole tree ends at once, a fork bomb hits the pids limit, an
 * allocation past the memory limit is an OOM kill the cell can tell from a crash, and nothing is left.
 * Needs a writable cgroup (root, or a delegated v2 subtree): skipped with a notice elsewhere.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Containment } from '../../src/process/containment/containment.js';
import { detect } from '../../src/process/containment/detect.js';
import { reapStale } from '../../src/process/containment/reap.js';
import { expectAllGone, pidAlive } from '../helpers.js';
import { endStarted, start } from './fixtures.js';

const caps = detect();
const cgroups = caps.plan.mechanism !== 'proc-walk';
const memoryCg = caps.plan.memory !== 'rss-sample';
const pidsCg = caps.plan.pids !== 'none';
if (!cgroups) console.log(`[containment] no writable cgroup here (${caps.notes.join('; ')}): cgroup tests skipped`);
else if (!memoryCg || !pidsCg) console.log(`[containment] partial cgroups (${caps.notes.join('; ')}): some tests skipped`);

let runs: Containment[] = [];
afterEach(async () => {
  await endStarted();
  for (const c of runs.splice(0)) await c.cleanup();
});
const runtimeDir = mkdtempSync(join(tmpdir(), 'agentos-cg-'));
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));

let n = 0;
function newRun(): Containment {
  const c = Containment.create({ runId: `t${process.pid}-${++n}`, runtimeDir });
  runs.push(c);
  return c;
}
const allDirs = (c: Containment): string[] => Object.values(c.runDirs).filter((d): d is string => d !== null);

describe.skipIf(!cgroups)('cgroup cells', () => {
  it('killAll ends a double-forked daemon with the agent; cleanup removes every cgroup', async () => {
    const c = newRun();
    expect(c.plan.mechanism).toBe(caps.plan.mechanism);
    const cell = c.cell('daemonizer', 1);
    const s = start('daemonizer.mjs', [], { tag: cell.tag });
    cell.attach(s.pid);
    const { daemon } = await s.next<{ daemon: number }>('daemon');
    expect(cell.members()).toEqual(expect.arrayContaining([s.pid, daemon])); // it never left the cgroup
    const r = await cell.killAll();
    expect(r.via).toBe(caps.plan.kill);
    expect(r.remaining).toEqual([]);
    expect(r.escaped).toEqual([]);
    await expectAllGone([s.pid, daemon]);
    const cellDirs = Object.values(cell.dirs).filter((d): d is string => d !== null);
    const report = await c.cleanup();
    runs = runs.filter((x) => x !== c);
    expect(report.errors).toEqual([]);
    expect(report.agents[0]).toMatchObject({ mechanism: caps.plan.mechanism, pid: s.pid, escaped: [] });
    for (const d of [...cellDirs, ...allDirs(c)]) expect(existsSync(d)).toBe(false);
    expect(existsSync(join(runtimeDir, 'cgroups', `${c.runId}.json`))).toBe(false);
  });

  it('what was forked before attach is found by the walk, killed and reported as escaped', async () => {
    const c = newRun();
    const cell = c.cell('late', 1);
    const s = start('daemonizer.mjs', [], { tag: cell.tag });
    const { daemon } = await s.next<{ daemon: number }>('daemon'); // the daemon exists before attach: the race
    cell.attach(s.pid);
    expect(cell.members()).not.toContain(daemon);
    const r = await cell.killAll();
    expect(r.escaped).toEqual([expect.objectContaining({ pid: daemon, found_by: 'tag', killed: true })]);
    await expectAllGone([s.pid, daemon]);
    expect(c.report().escaped.map((e) => e.pid)).toEqual([daemon]);
  });

  it('launcher() places the process in its cell before its first instruction', async () => {
    const c = newRun();
    const cell = c.cell('where', 1);
    const l = cell.launcher(process.execPath, [join(import.meta.dirname, '../fixtures/containment/where.mjs')]);
    const s = start('where.mjs', [], { tag: cell.tag, raw: l });
    cell.attach(s.pid);
    const { cgroup } = await s.next<{ cgroup: string }>('cgroup');
    const name = cell.dirs.v2 ?? cell.dirs.memory ?? cell.dirs.pids ?? cell.dirs.freezer;
    expect(cgroup).toContain(name!.split('/').slice(-2).join('/'));
    await cell.killAll();
    await expectAllGone([s.pid]);
  });

  it.skipIf(!pidsCg)('a fork bomb stops at the pids limit and killAll ends it', async () => {
    const c = newRun();
    const cell = c.cell('bomb', 1);
    // Bounded: at most 100 `sleep 60`s even with no limit at all. The limit is set before node boots.
    const s = start('bomb.mjs', ['100'], { tag: cell.tag, raw: cell.launcher(process.execPath, [join(import.meta.dirname, '../fixtures/containment/bomb.mjs'), '100']) });
    cell.attach(s.pid);
    expect(cell.setPidsLimit(32)).toBe(caps.plan.pids);
    const { started, refused } = await s.next<{ started: number; refused: number }>('started', 30_000);
    expect(refused).toBeGreaterThan(0);
    expect(started).toBeLessThan(32);
    expect(cell.members().length).toBeLessThanOrEqual(32);
    expect(cell.pidsLimitHits()).toBeGreaterThan(0); // fork() was refused by the controller
    const members = cell.members();
    const r = await cell.killAll();
    expect(r.remaining).toEqual([]);
    await expectAllGone([s.pid, ...members]);
  });

  it.skipIf(!memoryCg)('an allocation past the memory limit is an OOM kill; a self-SIGKILL is not', async () => {
    const c = newRun();
    const cell = c.cell('hog', 1);
    const s = start('hog.mjs', ['1024'], { tag: cell.tag, raw: cell.launcher(process.execPath, [join(import.meta.dirname, '../fixtures/containment/hog.mjs'), '1024']) });
    cell.attach(s.pid);
    expect(cell.setMemoryLimit(96 * 1024 * 1024)).toBe(caps.plan.memory);
    const exit = await s.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(cell.oomKilled()).toBe(true);
    expect(cell.memoryPeakBytes()).toBeGreaterThan(90 * 1024 * 1024);

    const crash = c.cell('crash', 1);
    const k = start('crash', [], { raw: crash.launcher(process.execPath, ['-e', 'process.kill(process.pid, "SIGKILL")']) });
    crash.attach(k.pid);
    crash.setMemoryLimit(96 * 1024 * 1024);
    expect((await k.exited).signal).toBe('SIGKILL');
    expect(crash.oomKilled()).toBe(false);
    const report = await c.cleanup();
    runs = runs.filter((x) => x !== c);
    expect(report.agents.map((a) => a.oom_kills)).toEqual([1, 0]);
  });

  it.skipIf(!memoryCg)('memory() reads the cgroup charge of the whole tree', async () => {
    const c = newRun();
    const cell = c.cell('threads', 1);
    const s = start('thread-spawner.mjs', ['64'], { raw: cell.launcher(process.execPath, [join(import.meta.dirname, '../fixtures/containment/thread-spawner.mjs'), '64']) });
    cell.attach(s.pid);
    await s.next('grandchild');
    const m = cell.memory();
    expect(m.source).toBe(caps.plan.memory);
    expect(m.bytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(m.pids).toBe(2);
  });

  it('reapStale removes the cgroups of a SIGKILLed kernel and ends its orphaned agent', async () => {
    const k = start('fake-kernel.mjs', [runtimeDir]);
    const info = await k.next<{ run_dirs: string[]; cell_dirs: string[]; agent: number; mechanism: string }>('agent');
    expect(info.mechanism).toBe(caps.plan.mechanism);
    for (const d of [...info.run_dirs, ...info.cell_dirs]) expect(existsSync(d)).toBe(true);
    k.child.kill('SIGKILL');
    await k.exited;
    expect(pidAlive(info.agent)).toBe(true); // orphaned, still in its cgroup
    const r = await reapStale({ runtimeDir });
    expect(r.failed).toEqual([]);
    expect(r.removed).toEqual(expect.arrayContaining([...info.run_dirs, ...info.cell_dirs]));
    expect(r.killed).toContain(info.agent);
    await expectAllGone([info.agent]);
    for (const d of [...info.run_dirs, ...info.cell_dirs]) expect(existsSync(d)).toBe(false);
    // A live kernel's cgroups are left alone.
    const live = newRun();
    await reapStale({ runtimeDir });
    for (const d of allDirs(live)) expect(existsSync(d)).toBe(true);
    expect(readFileSync(join(runtimeDir, 'cgroups', `${live.runId}.json`), 'utf8')).toContain(live.runId);
  });
});
