/**
 * Plans of any shape and size: no walk over the task graph recurses (a 100,000-task chain must not
 * overflow the stack) and insertion works for any listing order. Timing lives in
 * benchmarks/plan-scale-bench.ts, not here.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCycle, formatCycle, TaskGraph, topologicalOrder } from '../../src/scheduler/task-graph.js';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, expectAllGone, readJson, runCli, runPids, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const N = 100_000;
/** t0 <- t1 <- ... <- t(N-1), listed last task first. */
const reverseChain = (n: number) => Array.from({ length: n }, (_, k) => n - 1 - k).map((i) => ({ id: `t${i}`, agent: 'x', deps: i === 0 ? [] : [`t${i - 1}`] }));

describe('graph walks at 100,000 tasks', () => {
  it('topological order of a chain listed in reverse', () => {
    const tasks = reverseChain(N);
    const res = topologicalOrder(tasks, () => false);
    expect('order' in res).toBe(true);
    const order = (res as { order: typeof tasks }).order;
    expect(order).toHaveLength(N);
    expect(order[0]!.id).toBe('t0');
    expect(order[N - 1]!.id).toBe(`t${N - 1}`);
  });

  it('the transitive dependents of a failed chain head, without recursion', () => {
    const g = new TaskGraph();
    const sorted = topologicalOrder(reverseChain(N), () => false);
    if (!('order' in sorted)) throw new Error('a chain has no cycle');
    for (const t of sorted.order) g.add(t, false);
    const head = g.get('t0')!;
    g.transition(head, 'ready', 0);
    g.transition(head, 'running', 0);
    g.transition(head, 'failed', 0);
    const blocked = g.blockedDependents(head);
    expect(blocked).toHaveLength(N - 1);
    expect(blocked[0]).toMatchObject({ task: { id: 't1' }, cause: { id: 't0' } });
    expect(blocked[N - 2]).toMatchObject({ task: { id: `t${N - 1}` }, cause: { id: `t${N - 2}` } });
  });

  it('a diamond lattice: each task blocked once, after its cause', () => {
    const g = new TaskGraph();
    g.add({ id: 'root', agent: 'x', deps: [] }, false);
    for (let i = 0; i < 1000; i++) g.add({ id: `m${i}`, agent: 'x', deps: ['root', ...(i > 0 ? [`m${i - 1}`] : [])] }, false);
    const root = g.get('root')!;
    g.transition(root, 'skipped', 0);
    const blocked = g.blockedDependents(root);
    expect(new Set(blocked.map((b) => b.task.id)).size).toBe(1000);
  });

  it('a 100,000-task cycle is found and printed by a readable prefix', () => {
    const tasks = Array.from({ length: N }, (_, i) => ({ id: `c${i}`, deps: [`c${(i + 1) % N}`] }));
    const cycle = findCycle(tasks)!;
    expect(cycle).toHaveLength(N + 1);
    expect(formatCycle(cycle)).toBe(`c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> c8 -> c9 -> … (${N - 10} more) -> c0`);
    const stuck = topologicalOrder(tasks, () => false);
    expect('stuck' in stuck && stuck.stuck.length).toBe(N);
  });

  it('a dependency that is neither in the batch nor known leaves its task stuck', () => {
    const res = topologicalOrder([{ id: 'a', deps: ['old'] }, { id: 'b', deps: ['gone'] }], (id) => id === 'old');
    expect(res).toEqual({ stuck: [{ id: 'b', deps: ['gone'] }] });
  });
});

describe('agentos run: a long chain listed in reverse whose head fails', () => {
  it('inserts every task, skips all dependents, exits 1 with a report', async () => {
    const n = 12_000; // well past the ~3,000 at which the recursive skip overflowed
    const dir = tempDir();
    for (const [name, body] of [['head', 'throw new Error("head fails");'], ['tail', 'return 1;']] as const) {
      mkdirSync(join(dir, 'agents', name), { recursive: true });
      writeFileSync(join(dir, 'agents', name, 'agent.yaml'), `name: ${name}\nhandler: ./handler.js\nretry: { max_attempts: 1 }\n`);
      writeFileSync(join(dir, 'agents', name, 'handler.js'), `export default async () => { ${body} };\n`);
    }
    const tasks = reverseChain(n).map((t) => JSON.stringify({ id: t.id, agent: t.id === 't0' ? 'head' : 'tail', deps: t.deps }));
    writeFileSync(join(dir, 'plan.yaml'), `{"name":"reverse-chain","tasks":[\n${tasks.join(',\n')}\n]}\n`);
    const report = join(dir, 'report.json');
    const res = await runCli(['run', join(dir, 'plan.yaml'), '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs'), '--report', report, '--quiet'], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all.slice(0, 2000)).toBe(1);
    const r = readJson<RunReport>(report);
    expect(r.status).toBe('failed');
    expect(r.tasks.filter((t) => t.state === 'skipped')).toHaveLength(n - 1);
    expect(r.tasks.find((t) => t.id === 't0')!.state).toBe('failed');
    await expectAllGone(runPids(r));
  }, 150_000);
});
