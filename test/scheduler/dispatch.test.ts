/** Parallel dispatch across instances, and dynamic insertion with ctx.spawn. */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readEvents, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('dispatch', () => {
  it('independent ready tasks run in parallel across the agent instances', async () => {
    const tasks = Array.from({ length: 4 }, (_, i) => ({ id: `s${i}`, agent: 'slow_agent', input: { ms: 500 } }));
    const { res, report, dir } = await runFixturePlan(tasks, ['--concurrency', '4']);
    expect(res.exitCode, res.all).toBe(0);
    const events = readEvents(`${dir}/runs/${report!.run_id}`).filter((e) => e.type === 'task.state');
    // slow_agent has 2 instances: at most 2 tasks are running at any moment, and 2 are at some moment
    let running = 0;
    let peak = 0;
    for (const e of events) {
      if (e.state === 'running') running++;
      if (e.state === 'succeeded') running--;
      peak = Math.max(peak, running);
    }
    expect(peak).toBe(2);
    expect(new Set(report!.tasks.map((t) => (t.output as { pid: number }).pid)).size).toBe(2);
    await expectAllGone(runPids(report!));
  });

  it('--concurrency 1 serialises everything', async () => {
    const tasks = Array.from({ length: 3 }, (_, i) => ({ id: `s${i}`, agent: 'slow_agent', input: { ms: 100 } }));
    const { report, dir } = await runFixturePlan(tasks, ['--concurrency', '1']);
    const events = readEvents(`${dir}/runs/${report!.run_id}`).filter((e) => e.type === 'task.state');
    let running = 0;
    for (const e of events) {
      if (e.state === 'running') running++;
      if (e.state === 'succeeded') running--;
      expect(running).toBeLessThanOrEqual(1);
    }
    await expectAllGone(runPids(report!));
  });
});

describe('ctx.spawn', () => {
  it('adds valid tasks to the running DAG and refuses bad ones without harm', async () => {
    const { res, report, dir } = await runFixturePlan([
      { id: 'seed', agent: 'ok_agent' },
      { id: 'root', agent: 'spawner_agent', deps: ['seed'] },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const r = report!;
    const out = r.tasks.find((t) => t.id === 'root')!.output as Record<string, { ok: boolean; code?: string }>;
    expect(out.child0!.ok).toBe(true);
    expect(out.child1!.ok).toBe(true);
    expect(out.unknownAgent).toMatchObject({ ok: false, code: 'E_UNKNOWN_AGENT' });
    expect(out.duplicate).toMatchObject({ ok: false, code: 'E_DUPLICATE_TASK' });
    expect(out.unknownDep).toMatchObject({ ok: false, code: 'E_UNKNOWN_DEPENDENCY' });
    expect(out.badShape).toMatchObject({ ok: false, code: 'E_SCHEMA' });
    expect(out.notAnObject).toMatchObject({ ok: false, code: 'E_SCHEMA' });
    const children = r.tasks.filter((t) => t.dynamic);
    expect(children.map((t) => t.id).sort()).toEqual(['root.child0', 'root.child1']);
    for (const c of children) {
      expect(c.state).toBe('succeeded');
      expect(c.deps).toEqual(['seed']);
    }
    expect(r.metrics.dynamic_tasks).toBe(2);
    expect(readEvents(`${dir}/runs/${r.run_id}`).filter((e) => e.type === 'task.spawn_rejected')).toHaveLength(3);
    await expectAllGone(runPids(r));
  });
});
