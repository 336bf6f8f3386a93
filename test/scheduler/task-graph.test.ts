import { describe, expect, it } from 'vitest';
import { findCycle } from '../../src/config/plan.js';
import { TaskGraph } from '../../src/scheduler/task-graph.js';

describe('task lifecycle', () => {
  it('allows exactly pending -> ready -> running -> succeeded|failed|skipped', () => {
    const g = new TaskGraph();
    const ok = g.add({ id: 'a', agent: 'x', deps: [] }, false);
    g.transition(ok, 'ready', 0);
    g.transition(ok, 'running', 1);
    g.transition(ok, 'succeeded', 2);
    expect(ok.startedAt).toBe(1);
    expect(ok.endedAt).toBe(2);
    const bad = g.add({ id: 'b', agent: 'x', deps: [] }, false);
    expect(() => g.transition(bad, 'running', 0)).toThrow(/pending -> running/);
    expect(() => g.transition(ok, 'failed', 3)).toThrow(/succeeded -> failed/);
    g.transition(bad, 'skipped', 0);
    expect(() => g.transition(bad, 'ready', 0)).toThrow();
    expect(g.finished).toBe(true);
  });

  it('counts unmet dependencies and finds blockers', () => {
    const g = new TaskGraph();
    const a = g.add({ id: 'a', agent: 'x', deps: [] }, false);
    const b = g.add({ id: 'b', agent: 'x', deps: ['a'] }, false);
    expect(b.unmet).toBe(1);
    expect(a.dependents).toEqual(['b']);
    g.transition(a, 'ready', 0);
    g.transition(a, 'running', 0);
    g.transition(a, 'failed', 0);
    expect(g.blockedBy(b)?.id).toBe('a');
  });
});

describe('findCycle', () => {
  it('returns the tasks of a cycle, closed', () => {
    expect(findCycle([
      { id: 'a', deps: ['b'] },
      { id: 'b', deps: ['c'] },
      { id: 'c', deps: ['a'] },
      { id: 'd', deps: [] },
    ])).toEqual(['a', 'b', 'c', 'a']);
  });

  it('returns undefined for a DAG, even a wide and deep one', () => {
    const tasks = Array.from({ length: 5_000 }, (_, i) => ({ id: `t${i}`, deps: i === 0 ? [] : [`t${i - 1}`, `t${Math.floor(i / 2)}`] }));
    expect(findCycle(tasks)).toBeUndefined();
  });
});
