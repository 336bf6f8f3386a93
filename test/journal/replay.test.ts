/** Replay: facts folded into a run state, and the completeness verdict a resume acts on. */
import { describe, expect, it } from 'vitest';
import { AgentOSError } from '../../src/errors.js';
import { completeness } from '../../src/journal/completeness.js';
import { factSchema, type Fact, type FactInput } from '../../src/journal/facts.js';
import { replay } from '../../src/journal/replay.js';
import { added, charge, header, started, succeeded } from './facts-fixture.js';

/** Stamp inputs as the journal would (seq, ts_ms) and validate them as the reader does. */
function facts(...inputs: FactInput[]): Fact[] {
  return inputs.map((f, seq) => factSchema.parse({ seq, ts_ms: 1_700_000_000_000 + seq, ...f }));
}

function corruptCode(fs: Fact[]): string | undefined {
  try {
    replay(fs);
  } catch (err) {
    return err instanceof AgentOSError ? err.code : String(err);
  }
  return undefined;
}

describe('replay', () => {
  it('folds tasks, attempts, outputs, failures, shared memory and tokens', () => {
    const s = replay(
      facts(
        header(),
        added('a'),
        added('b', ['a']),
        added('c', ['a'], 'flaky'),
        started('a', 1, 100),
        { type: 'memory.write', key: 'k', value: 1, writer: { agent: 'echo', instance: 0, task: 'a' } },
        charge('echo', 30),
        succeeded('a', 1, { v: 1 }),
        started('c', 1, 101, 'flaky'),
        { type: 'attempt.outcome', task: 'c', attempt: 1, agent: 'flaky', kind: 'crash', message: 'exit 1', pid: 101 },
        started('c', 2, 102, 'flaky'),
        { type: 'attempt.outcome', task: 'c', attempt: 2, agent: 'flaky', kind: 'timeout', message: 'slow', pid: 102 },
        { type: 'task.failed', task: 'c', kind: 'timeout', message: 'attempts exhausted' },
        { type: 'memory.write', key: 'k', value: 2, writer: { agent: 'echo', instance: 0, task: 'b' } },
        { type: 'memory.write', key: 'gone', value: 1, writer: { agent: 'echo', instance: 0, task: 'b' } },
        { type: 'memory.write', key: 'gone', value: null, deleted: true, writer: { agent: 'echo', instance: 0, task: 'b' } },
        charge('echo', 12),
        started('b', 1, 103),
        succeeded('b', 1, 'B'),
        { type: 'run.finished', status: 'failed', duration_ms: 900 },
      ),
    );
    const a = s.tasks.get('a')!;
    expect(a).toMatchObject({ status: 'succeeded', output: { v: 1 }, served_by: 'echo', attempts: 1, counted: { echo: 1 }, inflight: null });
    expect(s.tasks.get('b')).toMatchObject({ status: 'succeeded', output: 'B' });
    const c = s.tasks.get('c')!;
    expect(c).toMatchObject({ status: 'failed', attempts: 2, counted: { flaky: 2 }, error: { kind: 'timeout', message: 'attempts exhausted' } });
    expect(c.failures.map((f) => f.kind)).toEqual(['crash', 'timeout']);
    expect([...s.memory.keys()]).toEqual(['k']);
    expect(s.memory.get('k')).toMatchObject({ value: 2, writer: { task: 'b' } });
    expect(s.tokens.get('echo')).toBe(42);
    expect(s.finished).toEqual({ status: 'failed', duration_ms: 900 });
    const v = completeness(s);
    expect(v).toEqual({ complete: true, final: ['a', 'b', 'c'], unfinished: [], inflight: [] });
  });

  it('a killed kernel: in-flight attempts and unstarted tasks are unfinished; resume reopens them as interrupted', () => {
    const before = facts(
      header(),
      added('done'),
      added('running', ['done']),
      added('waiting', ['running']),
      added('cancelled'),
      added('after_cancel', ['cancelled']),
      started('done', 1),
      succeeded('done', 1),
      started('running', 1, 201),
      { type: 'attempt.outcome', task: 'running', attempt: 1, agent: 'echo', kind: 'crash', message: 'boom', pid: 201 },
      started('running', 2, 202),
      { type: 'task.skipped', task: 'cancelled', kind: 'cancelled', reason: 'cancelled by done' },
      { type: 'task.skipped', task: 'after_cancel', kind: 'dependency', reason: 'dependency cancelled skipped', cause: 'cancelled' },
    );
    const s = replay(before);
    const v = completeness(s);
    expect(v.complete).toBe(false);
    expect(v.final).toEqual(['done', 'cancelled', 'after_cancel']);
    expect(v.unfinished).toEqual(['running', 'waiting']);
    expect(v.inflight).toEqual([{ task: 'running', attempt: 2, agent: 'echo', instance: 0, pid: 202, seq: 10 }]);

    // The resumer appends run.resumed; the in-flight attempt becomes an `interrupted` failure that does
    // not count against max_attempts, and the task is pending again with its attempt numbering kept.
    const resumed = facts(
      ...before.map(({ seq: _s, ts_ms: _t, ...f }) => f as FactInput),
      { type: 'run.resumed', at: 1_700_000_100_000, by_pid: 999 },
      started('running', 3, 301),
      succeeded('running', 3, 'R'),
      started('waiting', 1, 302),
      succeeded('waiting', 1, 'W'),
    );
    const s2 = replay(resumed);
    const r = s2.tasks.get('running')!;
    expect(r.failures.map((f) => [f.attempt, f.kind])).toEqual([
      [1, 'crash'],
      [2, 'interrupted'],
    ]);
    expect(r.counted).toEqual({ echo: 2 }); // attempt 1 (crash) + attempt 3 (success); the interrupted 2 is free
    expect(r).toMatchObject({ status: 'succeeded', attempts: 3, output: 'R' });
    expect(s2.resumed).toEqual([{ at: 1_700_000_100_000, by_pid: 999 }]);
    expect(completeness(s2).complete).toBe(true);
  });

  it('a Ctrl-C: tasks skipped as interrupted, and their dependency-skipped dependents, go back to pending', () => {
    const s = replay(
      facts(
        header(),
        added('a'),
        added('b', ['a']),
        added('c', ['b']),
        added('x'),
        started('a', 1, 10),
        { type: 'run.interrupted', at: 5, by_pid: 77, signal: 'SIGINT' },
        { type: 'attempt.outcome', task: 'a', attempt: 1, agent: 'echo', kind: 'interrupted', message: 'Ctrl-C', pid: 10 },
        { type: 'task.skipped', task: 'a', kind: 'interrupted', reason: 'interrupted' },
        { type: 'task.skipped', task: 'b', kind: 'dependency', reason: 'dependency a skipped', cause: 'a' },
        { type: 'task.skipped', task: 'c', kind: 'dependency', reason: 'dependency b skipped', cause: 'b' },
        { type: 'task.failed', task: 'x', kind: 'interrupted', message: 'stopped' },
        { type: 'run.finished', status: 'interrupted', duration_ms: 10 },
      ),
    );
    const v = completeness(s);
    expect(v).toMatchObject({ complete: false, final: [], unfinished: ['a', 'b', 'c', 'x'], inflight: [] });
    expect(s.tasks.get('a')!.counted).toEqual({});
    expect(s.interruptions).toEqual([{ at: 5, by_pid: 77, signal: 'SIGINT' }]);
  });

  it('a dynamic task and a late outcome of a cancelled attempt fold cleanly', () => {
    const s = replay(
      facts(
        header(),
        added('root'),
        started('root', 1, 1),
        { type: 'task.added', task: 'child', agent: 'echo', deps: [], input: 1, dynamic: true, spawned_by: 'root', timeout_ms: 500 },
        started('child', 1, 2),
        { type: 'task.skipped', task: 'child', kind: 'cancelled', reason: 'cancelled by root' },
        { type: 'attempt.outcome', task: 'child', attempt: 1, agent: 'echo', kind: 'cancelled', message: 'process group ended', pid: 2 },
        succeeded('root', 1),
      ),
    );
    expect(s.tasks.get('child')).toMatchObject({ dynamic: true, spawned_by: 'root', timeout_ms: 500, status: 'skipped' });
    expect(s.tasks.get('child')!.failures).toHaveLength(1);
    expect(completeness(s).complete).toBe(true);
  });

  it('refuses journals that contradict themselves', () => {
    expect(corruptCode(facts(added('a')))).toBe('E_JOURNAL_CORRUPT'); // no header
    expect(corruptCode(facts(header(), added('a'), added('a')))).toBe('E_JOURNAL_CORRUPT');
    expect(corruptCode(facts(header(), added('b', ['a'])))).toBe('E_JOURNAL_CORRUPT');
    expect(corruptCode(facts(header(), started('nope', 1)))).toBe('E_JOURNAL_CORRUPT');
    expect(corruptCode(facts(header(), added('a'), started('a', 1), started('a', 2)))).toBe('E_JOURNAL_CORRUPT');
    expect(corruptCode(facts(header(), added('a'), started('a', 1), succeeded('a', 1), started('a', 2)))).toBe('E_JOURNAL_CORRUPT');
    expect(corruptCode(facts(header(), added('a'), started('a', 1), succeeded('a', 1), { type: 'run.resumed', at: 1, by_pid: 1 }, started('a', 2)))).toBe('E_JOURNAL_CORRUPT');
    expect(corruptCode([])).toBe('E_JOURNAL_CORRUPT');
  });
});
