import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunView } from '../../src/dashboard/run-view.js';
import { loadRunDir } from '../../src/dashboard/replay.js';
import type { TimedEvent } from '../../src/kernel-api/events.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const E = (e: Record<string, unknown>): TimedEvent => e as unknown as TimedEvent;

describe('RunView: the fold behind the dashboard', () => {
  it('shows inserted tasks as they are added and sends only what changed', () => {
    const v = new RunView();
    v.apply(E({ type: 'run.started', run_id: 'r', plan: 'p', tasks: 1, agents: ['a'], run_dir: '/r', t: 0 }));
    v.apply(E({ type: 'task.added', task: 'a', agent: 'a', deps: [], dynamic: false, t: 1 }));
    const seq = v.seq;
    v.apply(E({ type: 'task.added', task: 'b', agent: 'a', deps: ['a'], dynamic: true, t: 2 }));
    const d = v.delta(seq)!;
    expect(d.tasks.map((t) => [t.id, t.dynamic, t.deps])).toEqual([['b', true, ['a']]]);
    expect(d.events.map((e) => e.type)).toEqual(['task.added']);
    expect(v.metrics.dynamic_tasks).toBe(1);
  });

  it('keeps RSS/CPU history out of the log, bounds the ring, and asks a client too far behind to resync', () => {
    const v = new RunView({ ringSize: 10 });
    v.apply(E({ type: 'process.ready', agent: 'a', instance: 1, pid: 42, ready_ms: 5, t: 0 }));
    for (let i = 0; i < 100; i++) v.apply(E({ type: 'quota.sample', samples: [{ agent: 'a', instance: 1, pid: 42, rss_mb: i, cpu: 1 }], t: i }));
    expect(v.snapshot().events.map((e) => e.type)).toEqual(['process.ready']);
    const p = v.procs()[0]!;
    expect(p.rss_hist).toHaveLength(60);
    expect(p.rss_hist.at(-1)).toBe(99);
    expect(p.peak_rss_mb).toBe(99);
    for (let i = 0; i < 50; i++) v.apply(E({ type: 'task.log', task: 't', agent: 'a', level: 'info', msg: String(i), t: 200 + i }));
    expect(v.snapshot().events).toHaveLength(10);
    expect(v.delta(0)).toBeUndefined(); // behind the ring: snapshot instead
    expect(v.delta(v.seq - 3)!.events).toHaveLength(3);
  });

  it('rebuilds a finished run from events.jsonl, skipping a torn last line, then takes report.json', () => {
    const dir = tempDir();
    const lines = [
      { level: 30, time: 1, type: 'run.started', run_id: 'x1', plan: 'p', tasks: 1, agents: ['a'], run_dir: dir, t: 0 },
      { level: 30, time: 1, type: 'task.added', task: 't', agent: 'a', deps: [], dynamic: false, t: 1 },
      { level: 30, time: 1, type: 'process.ready', agent: 'a', instance: 1, pid: 7, ready_ms: 3, t: 2 },
      { level: 30, time: 1, type: 'task.state', task: 't', state: 'running', agent: 'a', attempt: 1, pid: 7, instance: 1, t: 3 },
      { level: 30, time: 1, type: 'task.state', task: 't', state: 'succeeded', agent: 'a', attempt: 1, pid: 7, t: 4 },
      { level: 30, time: 1, type: 'run.finished', run_id: 'x1', status: 'succeeded', duration_ms: 5, t: 5 },
    ];
    writeFileSync(join(dir, 'events.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"type":"task.lo`);
    let loaded = loadRunDir(dir);
    expect(loaded).toMatchObject({ events: 6, skipped: 1, hasReport: false });
    expect(loaded.view.run).toMatchObject({ run_id: 'x1', status: 'succeeded', duration_ms: 5 });
    expect(loaded.view.procs()).toEqual([expect.objectContaining({ pid: 7, state: 'idle', served: 1 })]);
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ tasks: [{ id: 't', output: { ok: 1 }, served_by: 'a' }], processes: [{ agent: 'a', instance: 1, pid: 7, state: 'exited', task: null, served: 1, restarts: 0, rss_mb: 1, cpu: 0, peak_rss_mb: 1, quota_mb: 0, mailbox_depth: 0, tokens_used: 0, kv_pages: 0, kv_bytes: 0, rejected_messages: 0, ready_ms: 3, exit: { code: 0, signal: null, reason: 'shutdown' } }], agents: [{ name: 'a', tokens: 300, attempts_served: 1 }] }));
    loaded = loadRunDir(dir);
    expect(loaded.hasReport).toBe(true);
    expect(loaded.view.tasks.get('t')!.output).toEqual({ ok: 1 });
    expect(loaded.view.procs()).toEqual([expect.objectContaining({ pid: 7, state: 'exited', tokens: 300 })]);
  });
});
