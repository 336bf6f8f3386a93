/**
 * Scheduler.restore (agentos resume): the task graph rebuilt from a journal, in-process against the fake
 * AttemptRunner. Tasks final for their own reasons keep their state and output and never run again;
 * pending ones run with their dependencies' restored outputs and go on counting attempts; a pending task
 * behind a dependency that failed for good is skipped (the skip the kill cut off is recorded now);
 * restored tasks are not journaled again; restored dynamic tasks count against the dynamic limit.
 */
import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/kernel-api/attempt-runner.js';
import type { RestoredTask } from '../../src/scheduler/scheduler.js';
import { harness, spec } from './fake-runner.js';

const ok = (output: unknown = null): AttemptOutcome => ({ ok: true, output });

function restored(id: string, o: Partial<RestoredTask> = {}): RestoredTask {
  return { id, agent: 'a', deps: [], input: null, dynamic: false, spawned_by: null, timeout_ms: null, memory_mb: null, status: 'pending', attempts: 0, counted: {}, served_by: null, output: null, error: null, failures: [], ...o };
}

describe('Scheduler.restore', () => {
  it('keeps final tasks as they were, runs the pending ones with their dependencies’ restored outputs, and goes on counting attempts', async () => {
    const { s, runner, facts, events } = harness([spec('a', { attempts: 3 })], (a) => ok({ task: a.taskId, deps: a.deps, attempt: a.attempt }));
    s.restore([
      restored('done1', { status: 'succeeded', attempts: 1, counted: { a: 1 }, served_by: 'a', output: { v: 1 } }),
      restored('done2', { status: 'succeeded', attempts: 1, counted: { a: 1 }, served_by: 'a', output: { v: 2 }, deps: ['done1'] }),
      // In flight at the kill: its attempt 2 was lost (interrupted, not counted), so it goes on with attempt 3.
      restored('mid', { deps: ['done1'], attempts: 2, counted: { a: 1 }, failures: [{ attempt: 2, agent: 'a', kind: 'interrupted', message: 'kernel stopped', pid: 42 }] }),
      restored('last', { deps: ['done2', 'mid'] }),
    ]);
    await s.done;
    // Only the pending tasks ran, in dependency order.
    expect(runner.runs.map((r) => r.task)).toEqual(['mid', 'last']);
    expect(s.graph.get('done1')).toMatchObject({ state: 'succeeded', output: { v: 1 }, attempts: 1 });
    expect(s.graph.get('mid')).toMatchObject({ state: 'succeeded', attempts: 3, output: { task: 'mid', deps: { done1: { v: 1 } }, attempt: 3 } });
    expect(s.graph.get('mid')!.failures.map((f) => f.kind)).toEqual(['interrupted']);
    expect(s.graph.get('last')!.output).toMatchObject({ deps: { done2: { v: 2 }, mid: { task: 'mid' } } });
    // The journal has the restored tasks already: no task.added again; only the new attempts' facts.
    expect(facts.filter((f) => f.type === 'task.added')).toEqual([]);
    expect(facts.filter((f) => f.type === 'task.succeeded').map((f) => f.task)).toEqual(['mid', 'last']);
    // Views (dashboard, progress) learn the restored graph from events.
    expect(events.filter((e) => e.type === 'task.added').map((e) => (e as { task: string }).task)).toEqual(['done1', 'done2', 'mid', 'last']);
  });

  it('a pending task behind a dependency that failed for good is skipped, and that skip is recorded now', async () => {
    const { s, runner, facts } = harness([spec('a')], () => ok());
    s.restore([
      restored('bad', { status: 'failed', attempts: 1, counted: { a: 1 }, error: { kind: 'crash', message: 'boom' }, failures: [{ attempt: 1, agent: 'a', kind: 'crash', message: 'boom', pid: 7 }] }),
      restored('after', { deps: ['bad'] }),
      restored('after2', { deps: ['after'] }),
      restored('free'),
    ]);
    await s.done;
    expect(runner.runs.map((r) => r.task)).toEqual(['free']);
    expect(s.graph.get('bad')).toMatchObject({ state: 'failed', error: { kind: 'crash' } });
    expect(s.graph.get('after')!.state).toBe('skipped');
    expect(s.graph.get('after2')!.state).toBe('skipped');
    expect(facts.filter((f) => f.type === 'task.skipped').map((f) => [f.task, (f as { cause: string | null }).cause])).toEqual([
      ['after', 'bad'],
      ['after2', 'after'],
    ]);
  });

  it('a run whose tasks are all final is done at once; a cancelled skip stays cancelled', async () => {
    const { s, runner } = harness([spec('a')], () => ok());
    s.restore([
      restored('x', { status: 'succeeded', attempts: 1, counted: { a: 1 }, served_by: 'a', output: 1 }),
      restored('y', { status: 'skipped', error: { kind: 'cancelled', message: 'cancelled by x' } }),
    ]);
    await s.done;
    expect(runner.runs).toEqual([]);
    expect(s.graph.get('y')).toMatchObject({ state: 'skipped', cancelled: true });
  });

  it('restored dynamic tasks count against the dynamic limit, and their spawner is kept', async () => {
    const { s } = harness([spec('a')], () => ok(), { maxDynamicTasks: 2 });
    s.restore([
      restored('root', { status: 'succeeded', attempts: 1, counted: { a: 1 }, served_by: 'a' }),
      restored('d1', { dynamic: true, spawned_by: 'root', status: 'succeeded', attempts: 1, counted: { a: 1 }, served_by: 'a' }),
      restored('d2', { dynamic: true, spawned_by: 'root' }),
    ]);
    expect(s.graph.get('d2')).toMatchObject({ dynamic: true, spawnedBy: 'root' });
    expect(() => s.addDynamic({ id: 'd3', agent: 'a' }, 'root')).toThrow(/at most 2/);
    await s.done;
    expect(s.graph.get('d2')!.state).toBe('succeeded');
  });
});
