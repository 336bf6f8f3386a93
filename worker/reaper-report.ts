/**
 * The record of a lost kernel (node builtins only, run inside the reaper): folds events.jsonl in 64 KiB
 * chunks (never the whole file in memory: the reaper has a 32 MB heap) into each task's last known state
 * and writes `report.json` with `status: "kernel_lost"` (temp file + rename), unless the kernel wrote its
 * own. Appends a `kernel.lost` event, after a newline if the file ends in a torn line. Never throws.
 */
import { appendFileSync, closeSync, existsSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LostTask {
  id: string;
  agent: string;
  state: string;
  attempts: number;
  deps: string[];
  error: { kind: string; message: string } | null;
}

/** What events.jsonl told: the run, its tasks' last states, kernel stops, and how much was read. */
export interface EventsSummary {
  plan: string | null;
  started_at: string | null;
  last_event_at: string | null;
  events: number;
  torn_tail: boolean;
  tasks: LostTask[];
  kernel_stopped: Array<{ for_ms: number }>;
}

type Ev = Record<string, unknown>;
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);

/** Fold a run's events.jsonl (missing file: an empty summary). */
export function summariseEvents(file: string): EventsSummary {
  const s: EventsSummary = { plan: null, started_at: null, last_event_at: null, events: 0, torn_tail: false, tasks: [], kernel_stopped: [] };
  const tasks = new Map<string, LostTask>();
  const apply = (e: Ev): void => {
    s.events++;
    if (typeof e.time === 'number') {
      const at = new Date(e.time).toISOString();
      s.started_at ??= at;
      s.last_event_at = at;
    }
    const id = str(e.task);
    switch (e.type) {
      case 'run.started':
        s.plan = str(e.plan, '') || null;
        return;
      case 'task.added':
        tasks.set(id, { id, agent: str(e.agent), state: 'pending', attempts: 0, deps: Array.isArray(e.deps) ? e.deps.map(String) : [], error: null });
        return;
      case 'task.state': {
        const t = tasks.get(id);
        if (!t) return;
        t.state = str(e.state, t.state);
        if (e.state === 'running' && typeof e.attempt === 'number') t.attempts = Math.max(t.attempts, e.attempt);
        if (typeof e.agent === 'string' && e.state === 'running') t.agent = e.agent;
        if (e.state === 'skipped' && typeof e.reason === 'string') t.error = { kind: 'skipped', message: e.reason };
        return;
      }
      case 'task.failure': {
        const t = tasks.get(id);
        if (t) t.error = { kind: str(e.kind), message: str(e.message).slice(0, 2000) };
        return;
      }
      case 'kernel.stopped':
        if (typeof e.for_ms === 'number') s.kernel_stopped.push({ for_ms: e.for_ms });
        return;
    }
  };
  if (!existsSync(file)) return s;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return s;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = lines.pop() ?? '';
      // A line longer than the chunk is kept whole up to 4 MiB, then dropped (not an event we need).
      if (rest.length > 4 << 20) rest = '';
      for (const l of lines) parse(l, apply, s);
    }
    if (rest.trim()) {
      // Unterminated: whole or not, the next line must start on a line of its own.
      parse(rest, apply, s);
      s.torn_tail = true;
    }
  } finally {
    closeSync(fd);
  }
  s.tasks = [...tasks.values()];
  return s;
}

function parse(line: string, apply: (e: Ev) => void, s: EventsSummary): boolean {
  if (!line.trim()) return true;
  try {
    const e = JSON.parse(line) as unknown;
    if (e && typeof e === 'object') apply(e as Ev);
    return true;
  } catch {
    s.torn_tail = true;
    return false;
  }
}

/** Write `<runDir>/report.json` for a kernel that died without writing one. */
export function writeLostReport(runDir: string, who: { runId: string; kernelPid: number; reaperPid: number }): void {
  const reportFile = join(runDir, 'report.json');
  const eventsFile = join(runDir, 'events.jsonl');
  try {
    if (existsSync(reportFile)) return;
    let summary: EventsSummary | { error: string };
    try {
      summary = summariseEvents(eventsFile);
    } catch (err) {
      summary = { error: `events.jsonl could not be read: ${(err as Error)?.message ?? String(err)}` };
    }
    const lostAt = new Date();
    const report = {
      run_id: who.runId,
      status: 'kernel_lost',
      run_dir: runDir,
      lost_at: lostAt.toISOString(),
      kernel: { pid: who.kernelPid, reaper_pid: who.reaperPid },
      note: 'The kernel ended without writing its report (SIGKILL, OOM kill, a crash): its reaper ended every agent and wrote this from events.jsonl. Task states are the last ones recorded; a task shown running was ended with its process.',
      ...summary,
    };
    const tmp = `${reportFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(tmp, reportFile);
    const torn = 'torn_tail' in summary && summary.torn_tail;
    appendFileSync(eventsFile, `${torn ? '\n' : ''}${JSON.stringify({ time: lostAt.getTime(), type: 'kernel.lost', pid: who.kernelPid, by: 'reaper' })}\n`);
  } catch {
    // Nowhere to write (the run directory is gone, a full disk): the agents are ended all the same.
  }
}
