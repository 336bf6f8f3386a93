import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readEvents, readJson, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import { EventLog } from '../../src/kernel-api/events.js';
import { Scheduler, type SchedulerHost as Executor } from '../../src/scheduler/scheduler.js';

afterAll(cleanupTempDirs);

const SPAWNER = `
export default async function spawner(_input, ctx) {
  const codes = {};
  const attempt = async (name, fn) => {
    try {
      await fn();
      codes[name] = 'ok';
    } catch (err) {
      codes[name] = err.code ?? err.message;
    }
  };
  await attempt('unknown_agent', () => ctx.spawn({ id: 'x1', agent: 'no_such_agent' }));
  await attempt('duplicate', () => ctx.spawn({ id: 'root', agent: 'echo' }));
  await attempt('self_cycle', () => ctx.spawn({ id: 'x2', agent: 'echo', deps: ['x2'] }));
  await attempt('unknown_dep', () => ctx.spawn({ id: 'x3', agent: 'echo', deps: ['ghost'] }));
  await attempt('bad_schema', () => ctx.spawn({ id: 'bad id!', agent: 'echo' }));
  await attempt('extra_field', () => ctx.spawn({ id: 'x4', agent: 'echo', priority: 9 }));
  await attempt('child1', () => ctx.spawn({ id: 'child1', agent: 'echo', input: 41 }));
  await attempt('child2', () => ctx.spawn({ id: 'child2', agent: 'echo', deps: ['child1', 'root'] }));
  const waited = await ctx.wait({ tasks: ['child1'], until: 'all' });
  await attempt('cancel_not_mine', () => ctx.cancel(['other']));
  await attempt('cancel_unknown', () => ctx.cancel(['ghost']));
  await attempt('cancel_child2', () => ctx.cancel(['child2'], 'not needed'));
  return { codes, child1: waited.tasks[0] };
}
`;

describe('ctx.spawn / ctx.wait / ctx.cancel', () => {
  it('rejects bad dynamic tasks with a coded error, never crashing the kernel; waits and cancels its own', async () => {
    const dir = tempDir();
    const agents = join(dir, 'agents');
    for (const [name, handler] of Object.entries({ spawner: SPAWNER, echo: 'export default async (input) => ({ echo: input });\n' })) {
      mkdirSync(join(agents, name), { recursive: true });
      writeFileSync(join(agents, name, 'agent.yaml'), `name: ${name}\nhandler: ./handler.js\ntimeout_ms: 20000\n`);
      writeFileSync(join(agents, name, 'handler.js'), handler);
    }
    const plan = join(dir, 'plan.yaml');
    writeFileSync(plan, 'name: dyn\ntasks:\n  - { id: root, agent: spawner }\n  - { id: other, agent: echo }\n');
    const reportFile = join(dir, 'report.json');
    // --concurrency 1: the spawner waits for its child; parked in ctx.wait it lends its slot, so no deadlock.
    const res = await runCli(['run', plan, '--agents', agents, '--concurrency', '1', '--runs-dir', join(dir, 'runs'), '--report', reportFile, '--quiet']);
    expect(res.exitCode, res.all).toBe(0);
    const report = readJson<RunReport>(reportFile);
    const root = report.tasks.find((t) => t.id === 'root')!.output as { codes: Record<string, string>; child1: { state: string; output: unknown } };
    expect(root.codes).toEqual({
      unknown_agent: 'E_UNKNOWN_AGENT',
      duplicate: 'E_DUPLICATE_TASK',
      self_cycle: 'E_CYCLE',
      unknown_dep: 'E_UNKNOWN_DEPENDENCY',
      bad_schema: 'E_SCHEMA',
      extra_field: 'E_SCHEMA',
      child1: 'ok',
      child2: 'ok',
      cancel_not_mine: 'E_PERMISSION',
      cancel_unknown: 'E_UNKNOWN_TASK',
      cancel_child2: 'ok',
    });
    expect(root.child1).toMatchObject({ state: 'succeeded', output: { echo: 41 } });
    const child2 = report.tasks.find((t) => t.id === 'child2')!;
    expect(child2).toMatchObject({ state: 'skipped', dynamic: true, attempts: 0 });
    expect(child2.error?.kind).toBe('cancelled');
    const rejected = readEvents(report.run_dir).filter((e) => e.type === 'task.spawn_rejected').map((e) => e.code);
    expect(rejected).toEqual(['E_UNKNOWN_AGENT', 'E_DUPLICATE_TASK', 'E_CYCLE', 'E_UNKNOWN_DEPENDENCY']);
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  });

  it('bounds how many tasks a run may add', () => {
    const exec = { chain: () => [], hasAgent: () => true, pool: () => { throw new Error('not used'); } } as unknown as Executor;
    const s = new Scheduler(exec, new EventLog(), { concurrency: 1, injections: [], maxDynamicTasks: 2 });
    s.interrupt(); // nothing may run: this test is about admission only
    expect(() => s.addDynamic({ id: 'a', agent: 'x' })).toThrow(/stopping/);
    const t = new Scheduler(exec, new EventLog(), { concurrency: 1, injections: [], maxDynamicTasks: 2 });
    t.queue.pause();
    t.addPlan([{ id: 'p', agent: 'x', deps: [] }]);
    t.addDynamic({ id: 'a', agent: 'x', deps: ['p'] });
    t.addDynamic({ id: 'b', agent: 'x', deps: ['p'] });
    expect(() => t.addDynamic({ id: 'c', agent: 'x', deps: ['p'] })).toThrow(expect.objectContaining({ code: 'E_USAGE' }));
  });
});
