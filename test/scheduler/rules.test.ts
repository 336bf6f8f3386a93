/**
 * Every scheduling rule, in-process, against a fake AttemptRunner (no process at all): transitions,
 * backoff, retry priority, fallback chain, circuit open, token admission, transitive skip, cancel,
 * dynamic insertion bounds, concurrency slots, fault injection, and the facts recorded before effects.
 */
import { describe, expect, it } from 'vitest';
import { deferred, harness, spec } from './fake-runner.js';
import type { AttemptOutcome } from '../../src/kernel-api/attempt-runner.js';

const ok = (output: unknown = null): AttemptOutcome => ({ ok: true, output });
const crash: AttemptOutcome = { ok: false, kind: 'crash', message: 'boom' };

describe('scheduler rules (fake runner)', () => {
  it('moves a task pending -> ready -> running -> succeeded and records each fact before it takes effect', async () => {
    const { s, events, facts } = harness([spec('a')], (t) => ok({ echo: t.input }));
    s.addPlan([
      { id: 't1', agent: 'a', deps: [], input: 1 },
      { id: 't2', agent: 'a', deps: ['t1'], input: 2 },
    ]);
    await s.done;
    const states = (id: string) => events.filter((e) => e.type === 'task.state' && e.task === id).map((e) => (e as { state: string }).state);
    expect(states('t1')).toEqual(['ready', 'running', 'succeeded']);
    expect(states('t2')).toEqual(['ready', 'running', 'succeeded']);
    expect(s.graph.get('t2')).toMatchObject({ state: 'succeeded', output: { echo: 2 }, attempts: 1, served_by: 'a' });
    expect(facts.map((f) => `${f.type}:${f.task}`)).toEqual([
      'task.added:t1',
      'task.added:t2',
      'attempt.started:t1',
      'attempt.outcome:t1',
      'task.succeeded:t1',
      'attempt.started:t2',
      'attempt.outcome:t2',
      'task.succeeded:t2',
    ]);
    // t2 became ready only after t1's success was recorded
    const t1Done = facts.findIndex((f) => f.type === 'task.succeeded' && f.task === 't1');
    const t2Start = facts.findIndex((f) => f.type === 'attempt.started' && f.task === 't2');
    expect(t1Done).toBeLessThan(t2Start);
  });

  it('retries with exponential backoff and jitter, up to max_attempts, then fails', async () => {
    const { s, events, facts } = harness([spec('a', { attempts: 3, backoff: 8 })], () => crash);
    s.addPlan([{ id: 't', agent: 'a', deps: [] }]);
    await s.done;
    const retries = events.filter((e) => e.type === 'task.retry').map((e) => (e as { delay_ms: number }).delay_ms);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toBeGreaterThanOrEqual(4);
    expect(retries[0]).toBeLessThanOrEqual(8);
    expect(retries[1]).toBeGreaterThanOrEqual(8);
    expect(retries[1]).toBeLessThanOrEqual(16);
    const rec = s.graph.get('t')!;
    expect(rec).toMatchObject({ state: 'failed', attempts: 3 });
    expect(rec.failures.map((f) => f.kind)).toEqual(['crash', 'crash', 'crash']);
    expect(facts.filter((f) => f.type === 'attempt.outcome')).toHaveLength(3);
    expect(facts.at(-1)).toMatchObject({ type: 'task.failed', task: 't', kind: 'crash' });
  });

  it('a retried task waits at the head of the line for its agent', async () => {
    let first = true;
    const { s, runner } = harness([spec('w', { attempts: 2 })], (t) => {
      if (t.taskId === 'a' && first) {
        first = false;
        return crash;
      }
      return ok();
    }, { slots: { w: 1 } });
    s.addPlan(['a', 'b', 'c'].map((id) => ({ id, agent: 'w', deps: [] })));
    await s.done;
    expect(runner.runs.map((r) => `${r.task}${r.attempt}`)).toEqual(['a1', 'b1', 'a2', 'c1']);
    expect(runner.acquires.filter((a) => a.retry)).toHaveLength(1);
  });

  it('walks the fallback chain once an agent has spent its attempts', async () => {
    const { s, events } = harness([spec('primary', { attempts: 2, fallback: 'backup' }), spec('backup')], (_t, agent) => (agent === 'primary' ? crash : ok('saved')));
    s.addPlan([{ id: 't', agent: 'primary', deps: [] }]);
    await s.done;
    expect(events.filter((e) => e.type === 'task.fallback')).toEqual([expect.objectContaining({ task: 't', from: 'primary', to: 'backup' })]);
    expect(s.graph.get('t')).toMatchObject({ state: 'succeeded', served_by: 'backup', output: 'saved', attempts: 3 });
    expect(s.graph.get('t')!.failures.map((f) => f.agent)).toEqual(['primary', 'primary']);
  });

  it('an open circuit sends the task to the fallback at once, or fails it when there is none', async () => {
    const { s, runner } = harness([spec('flaky', { attempts: 5, fallback: 'steady' }), spec('steady'), spec('alone', { attempts: 5 })], () => ok('done'));
    runner.openCircuit('flaky');
    runner.openCircuit('alone');
    s.addPlan([
      { id: 'x', agent: 'flaky', deps: [] },
      { id: 'y', agent: 'alone', deps: [] },
    ]);
    await s.done;
    expect(s.graph.get('x')).toMatchObject({ state: 'succeeded', served_by: 'steady', attempts: 1 });
    expect(s.graph.get('y')).toMatchObject({ state: 'failed', attempts: 0, error: { kind: 'crash' } });
    expect(s.graph.get('y')!.error!.message).toMatch(/circuit open/);
    expect(runner.runs.map((r) => r.agent)).toEqual(['steady']);
  });

  it('an agent over its token budget is refused (token_quota) and the fallback takes over', async () => {
    const { s, runner } = harness([spec('spender', { attempts: 3, fallback: 'thrifty' }), spec('thrifty')], () => ok(), { admit: (a) => (a === 'spender' ? 'budget spent' : undefined) });
    s.addPlan([{ id: 't', agent: 'spender', deps: [] }]);
    await s.done;
    expect(s.graph.get('t')).toMatchObject({ state: 'succeeded', served_by: 'thrifty' });
    expect(s.graph.get('t')!.failures).toEqual([expect.objectContaining({ kind: 'token_quota', agent: 'spender', pid: 0 })]);
    expect(runner.runs.map((r) => r.agent)).toEqual(['thrifty']);
  });

  it('skips every dependent of a failed task, transitively', async () => {
    const { s, facts } = harness([spec('a')], (t) => (t.taskId === 'root' ? crash : ok()));
    s.addPlan([
      { id: 'root', agent: 'a', deps: [] },
      { id: 'mid', agent: 'a', deps: ['root'] },
      { id: 'leaf', agent: 'a', deps: ['mid'] },
      { id: 'other', agent: 'a', deps: [] },
    ]);
    await s.done;
    expect(s.graph.get('mid')).toMatchObject({ state: 'skipped', attempts: 0 });
    expect(s.graph.get('leaf')).toMatchObject({ state: 'skipped', attempts: 0 });
    expect(s.graph.get('other')!.state).toBe('succeeded');
    expect(facts.filter((f) => f.type === 'task.skipped')).toEqual([
      expect.objectContaining({ task: 'mid', reason: 'dependency root failed', kind: 'dependency', cause: 'root' }),
      expect.objectContaining({ task: 'leaf', reason: 'dependency mid skipped', kind: 'dependency', cause: 'mid' }),
    ]);
  });

  it('cancels a running attempt through its lease, and a pending task before it runs', async () => {
    const hold = deferred<AttemptOutcome>();
    const { s, runner, facts } = harness([spec('a')], (t) => (t.taskId === 'long' ? hold.promise : ok()));
    s.addPlan([
      { id: 'long', agent: 'a', deps: [] },
      { id: 'after', agent: 'a', deps: ['long'] },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(s.graph.get('long')!.state).toBe('running');
    expect(s.cancel('after', 'not needed')).toBe(true);
    expect(s.cancel('long', 'stop')).toBe(true);
    await s.done;
    hold.resolve(ok('too late'));
    expect(runner.cancelled).toEqual(['a']);
    expect(s.graph.get('long')).toMatchObject({ state: 'skipped', cancelled: true, error: { kind: 'cancelled', message: 'stop' }, output: null });
    expect(s.graph.get('after')).toMatchObject({ state: 'skipped', cancelled: true, attempts: 0 });
    expect(s.cancel('long')).toBe(false);
    expect(facts.filter((f) => f.type === 'task.skipped').map((f) => f.task)).toEqual(['after', 'long']);
  });

  it('bounds dynamic insertion and refuses bad tasks without changing anything', async () => {
    const hold = deferred<AttemptOutcome>();
    const { s } = harness([spec('a')], () => hold.promise, { maxDynamicTasks: 2 });
    s.addPlan([{ id: 'p', agent: 'a', deps: [] }]);
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    expect(code(() => s.addDynamic({ id: 'p', agent: 'a' }))).toBe('E_DUPLICATE_TASK');
    expect(code(() => s.addDynamic({ id: 'self', agent: 'a', deps: ['self'] }))).toBe('E_CYCLE');
    expect(code(() => s.addDynamic({ id: 'x', agent: 'ghost' }))).toBe('E_UNKNOWN_AGENT');
    expect(code(() => s.addDynamic({ id: 'x', agent: 'a', deps: ['nope'] }))).toBe('E_UNKNOWN_DEPENDENCY');
    expect(s.graph.tasks.size).toBe(1);
    s.addDynamic({ id: 'd1', agent: 'a', deps: ['p'] }, 'p');
    s.addDynamic({ id: 'd2', agent: 'a', deps: ['p'] }, 'p');
    expect(code(() => s.addDynamic({ id: 'd3', agent: 'a', deps: ['p'] }))).toBe('E_USAGE');
    expect(s.graph.get('d1')).toMatchObject({ dynamic: true, spawnedBy: 'p' });
    s.interrupt();
    expect(code(() => s.addDynamic({ id: 'late', agent: 'a' }))).toBe('E_USAGE');
    expect(code(() => s.addPlan([{ id: 'c1', agent: 'a', deps: ['c2'] }, { id: 'c2', agent: 'a', deps: ['c1'] }]))).toBe('E_CYCLE');
    hold.resolve(ok());
  });

  it('never runs more attempts than the concurrency; a task parked in task.wait lends its slot', async () => {
    const { s, runner } = harness([spec('a')], () => ok(), { concurrency: 2, slots: { a: 10 } });
    s.addPlan(Array.from({ length: 8 }, (_, i) => ({ id: `t${i}`, agent: 'a', deps: [] })));
    await s.done;
    expect(runner.runs).toHaveLength(8);
    expect(runner.maxRunning).toBe(2);

    const gate = deferred<void>();
    const h = harness([spec('a')], async (t) => {
      if (t.taskId === 'waiter') {
        const resume = h.s.park();
        await gate.promise;
        resume();
      }
      return ok();
    }, { concurrency: 1, slots: { a: 10 } });
    h.s.addPlan([{ id: 'waiter', agent: 'a', deps: [] }, { id: 'child', agent: 'a', deps: [] }]);
    await h.s.whenFinished('child');
    expect(h.runner.maxRunning).toBe(2);
    gate.resolve();
    await h.s.done;
    expect(h.s.concurrency).toBe(1);
    expect(h.s.queue.concurrency).toBe(1);
  });

  it('hands each attempt its injected fault: per agent attempt, per task attempt', async () => {
    const { s, runner } = harness([spec('a', { attempts: 2 })], (t) => (t.inject ? crash : ok()), {
      injections: [{ agent: 'a', fault: 'crash', attempt: 1 }],
      taskInjections: new Map([['special', { fault: 'hang', attempt: 2 }]]),
    });
    s.addPlan([
      { id: 'plain', agent: 'a', deps: [] },
      { id: 'special', agent: 'a', deps: [] },
    ]);
    await s.done;
    const by = (task: string) => runner.runs.filter((r) => r.task === task).map((r) => r.inject);
    expect(by('plain')).toEqual(['crash', undefined]);
    expect(by('special')).toEqual(['crash', 'hang']);
    expect(s.graph.get('plain')!.state).toBe('succeeded');
    expect(s.graph.get('special')!.state).toBe('failed');
  });
});
