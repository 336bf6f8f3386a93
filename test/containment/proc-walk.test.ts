/**
 * The /proc walk without cgroups, on real processes: grandchildren of non-main threads, double-forked
 * daemons (found only by the env tag), killTree, and tree memory that never holds file handles.
 */
import { readFileSync } from 'node:fs';
import pidusage from 'pidusage';
import { afterEach, describe, expect, it } from 'vitest';
import { Containment } from '../../src/process/containment/containment.js';
import { killTree } from '../../src/process/containment/kill-tree.js';
import { treeRssBytes } from '../../src/process/containment/memory.js';
import { descendants, walkTree } from '../../src/process/containment/proc-walk.js';
import { expectAllGone, pidAlive } from '../helpers.js';
import { endStarted, fdCount, start } from './fixtures.js';

afterEach(endStarted);

const MB = 1024 * 1024;
const tag = (name: string): string => `t${process.pid}/${name}#1`;
const ppidOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

describe('descendants()', () => {
  it('finds a grandchild spawned from a worker_thread, and counts its memory', async () => {
    const s = start('thread-spawner.mjs', ['64']);
    const { grandchild } = await s.next<{ grandchild: number }>('grandchild');
    // The main thread's children file does not list it: only the worker thread's does.
    const mainOnly = readFileSync(`/proc/${s.pid}/task/${s.pid}/children`, 'utf8');
    expect(mainOnly.split(' ').map(Number)).not.toContain(grandchild);
    expect(descendants(s.pid)).toContain(grandchild);
    const mem = treeRssBytes(s.pid);
    expect(mem.errors).toBe(0);
    expect(mem.pids).toBeGreaterThanOrEqual(2);
    expect(mem.bytes).toBeGreaterThan(64 * MB); // the grandchild's 64 MiB are the agent's
    const r = await killTree(s.pid);
    expect(r.remaining).toEqual([]);
    await expectAllGone([s.pid, grandchild]);
  });

  it('finds a double-forked daemon only by its env tag; killTree ends it', async () => {
    const t = tag('daemon');
    const s = start('daemonizer.mjs', [], { tag: t });
    const { daemon } = await s.next<{ daemon: number }>('daemon');
    expect(pidAlive(daemon)).toBe(true);
    expect(ppidOf(daemon)).not.toBe(s.pid); // re-parented: parentage cannot find it
    expect(descendants(s.pid)).not.toContain(daemon);
    expect(walkTree(s.pid, { tag: t })).toContainEqual({ pid: daemon, found_by: 'tag' });
    const r = await killTree(s.pid, { tag: t });
    expect(r.remaining).toEqual([]);
    expect(r.found.map((f) => f.pid)).toEqual(expect.arrayContaining([s.pid, daemon]));
    await expectAllGone([s.pid, daemon]);
  });

  it('a proc-walk Containment ends the daemon with the agent and reports the mechanism', async () => {
    const c = Containment.create({ runId: `pw${process.pid}`, mode: 'proc-walk' });
    const cell = c.cell('daemonizer', 1);
    const s = start('daemonizer.mjs', [], { tag: cell.tag });
    cell.attach(s.pid);
    const { daemon } = await s.next<{ daemon: number }>('daemon');
    expect(cell.members()).toEqual(expect.arrayContaining([s.pid, daemon]));
    const report = await c.cleanup();
    await expectAllGone([s.pid, daemon]);
    expect(report.mechanism).toBe('proc-walk');
    expect(report.agents[0]).toMatchObject({ agent: 'daemonizer', pid: s.pid, mechanism: 'proc-walk', memory: 'rss-sample', cgroups: [] });
    expect(report.escaped).toEqual([]);
  });
});

describe('killTree()', () => {
  it('never signals a pid that is no longer the process it was given (pid reuse)', async () => {
    const s = start('thread-spawner.mjs', ['0']);
    const { grandchild } = await s.next<{ grandchild: number }>('grandchild');
    // As if the agent had exited and its pid been reused: a start time that is not this process's.
    const r = await killTree(s.pid, { rootStart: '1' });
    expect(r.found).toEqual([]);
    expect(pidAlive(s.pid) && pidAlive(grandchild)).toBe(true);
    expect((await killTree(s.pid)).remaining).toEqual([]);
    await expectAllGone([s.pid, grandchild]);
  });
});

describe('treeRssBytes()', () => {
  it('holds no file handle after sampling a tree that starts 1,000 short-lived descendants', async () => {
    const before = fdCount();
    const s = start('churn.mjs', ['1000', '20']);
    let samples = 0;
    let errors = 0;
    let finished = false;
    void s.next('done', 120_000).then(() => (finished = true));
    while (!finished) {
      const m = treeRssBytes(s.pid);
      errors += m.errors;
      samples++;
      await new Promise((r) => setImmediate(r));
    }
    expect(samples).toBeGreaterThan(10);
    expect(errors).toBe(0);
    expect(fdCount()).toBeLessThanOrEqual(before + 2); // +2: the child's stdout pipe may still be open
    await killTree(s.pid);
    await expectAllGone([s.pid]);
  });

  it('the fd probe does catch a sampler that keeps handles (pidusage with maxage)', async () => {
    const before = fdCount();
    const s = start('churn.mjs', ['200', '20']);
    let finished = false;
    void s.next('done', 120_000).then(() => (finished = true));
    while (!finished) {
      try {
        await pidusage([s.pid, ...descendants(s.pid)], { maxage: 60_000 });
      } catch {
        // a pid vanished between listing and reading
      }
    }
    const held = fdCount() - before;
    expect(held).toBeGreaterThan(20);
    // (Its handles expire on pidusage's own unref'd timer; this test process ends first.)
    await killTree(s.pid);
    await expectAllGone([s.pid]);
  });
});
