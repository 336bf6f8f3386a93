/**
 * What the dashboard shows of one run, folded from kernel events: tasks with their attempts, a bounded
 * ring of recent events, RSS/CPU history per process, and counts. The same fold serves a live run (fed by
 * the kernel's EventLog, processes read from the ACB table) and a finished one (fed from events.jsonl,
 * processes rebuilt from events and then taken from report.json). apply() is O(1) per event: it sits on
 * the kernel's emit path.
 */
import type { Acb } from '../kernel-api/acb.js';
import type { TimedEvent } from '../kernel-api/events.js';

export type { TaskView, SeqEvent, ProcView, RunInfo, ViewMetrics, ViewState, Snapshot, Delta } from './view-types.js';
import type { TaskView, SeqEvent, ProcView, RunInfo, ViewMetrics, Snapshot, Delta } from './view-types.js';

export interface RunViewOptions {
  /** The live ACB table; without it processes are rebuilt from events (replay). */
  processes?: () => readonly Acb[];
  /** A task's output once it succeeded (live: the scheduler's record). */
  outputOf?: (task: string) => unknown;
  tokensPerCall?: (agent: string) => number;
  /** Events kept for the log. @default 5000 */
  ringSize?: number;
}

const HIST = 60;
/** Largest output shown per task, in JSON characters. */
const MAX_OUTPUT_CHARS = 20_000;

function clip(v: unknown): unknown {
  if (v === undefined) return null;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return null;
    return s.length > MAX_OUTPUT_CHARS ? { truncated: true, preview: s.slice(0, MAX_OUTPUT_CHARS) } : v;
  } catch {
    return { unserialisable: true };
  }
}

export class RunView {
  seq = 0;
  run: RunInfo | null = null;
  readonly tasks = new Map<string, TaskView>();
  private readonly ring: SeqEvent[] = [];
  private readonly ringSize: number;
  private readonly hist = new Map<number, { rss: number[]; cpu: number[] }>();
  /** Processes rebuilt from events (replay, or when no table is given). */
  private readonly rebuilt = new Map<number, Acb>();
  private finalProcs: Acb[] | undefined;
  /** Tokens per call by agent, from a replayed report (a live run asks the registry). */
  private readonly reportTokens = new Map<string, number>();
  report: unknown = null;
  private reportV = 0;
  readonly metrics: ViewMetrics = {
    attempts: 0,
    retries: 0,
    fallbacks: 0,
    restarts: 0,
    faults_injected: 0,
    processes_spawned: 0,
    dynamic_tasks: 0,
    failures_by_kind: {},
    events: 0,
    quota_samples: 0,
    by_type: {},
  };

  constructor(private readonly opts: RunViewOptions = {}) {
    this.ringSize = opts.ringSize ?? 5000;
  }

  private task(id: string): TaskView | undefined {
    return this.tasks.get(id);
  }

  private touch(t: TaskView): void {
    t.v = this.seq;
  }

  apply(e: TimedEvent): void {
    this.seq++;
    const m = this.metrics;
    if (this.run) this.run.now_t = Math.max(this.run.now_t, e.t);
    if (e.type === 'quota.sample') {
      // Too frequent for the log: it feeds the RSS/CPU history instead.
      m.quota_samples++;
      for (const s of e.samples) {
        let h = this.hist.get(s.pid);
        if (!h) this.hist.set(s.pid, (h = { rss: [], cpu: [] }));
        h.rss.push(s.rss_mb);
        h.cpu.push(s.cpu);
        if (h.rss.length > HIST) h.rss.shift();
        if (h.cpu.length > HIST) h.cpu.shift();
        const p = this.rebuilt.get(s.pid);
        if (p) {
          p.rss_mb = s.rss_mb;
          p.cpu = s.cpu;
          p.peak_rss_mb = Math.max(p.peak_rss_mb, s.rss_mb);
        }
      }
      return;
    }
    m.events++;
    const prefix = e.type.split('.')[0]!;
    m.by_type[prefix] = (m.by_type[prefix] ?? 0) + 1;
    this.ring.push({ ...e, seq: this.seq });
    // Trim in batches: shift() per event would move the whole ring every time.
    if (this.ring.length > this.ringSize + Math.min(1024, this.ringSize)) this.ring.splice(0, this.ring.length - this.ringSize);

    switch (e.type) {
      case 'run.started':
        this.run = { run_id: e.run_id, plan: e.plan, run_dir: e.run_dir, status: 'running', started_t: e.t, duration_ms: null, now_t: e.t };
        break;
      case 'run.finished':
        if (this.run) {
          this.run.status = e.status;
          this.run.duration_ms = e.duration_ms;
        }
        break;
      case 'task.added':
        if (e.dynamic) m.dynamic_tasks++;
        this.tasks.set(e.task, {
          id: e.task, agent: e.agent, deps: [...e.deps], dynamic: e.dynamic, state: 'pending', attempts: 0, served_by: null, agent_now: null, pid: null,
          failures: [], reason: null, started_t: null, ended_t: null, output: null, v: this.seq,
        });
        break;
      case 'task.state': {
        const t = this.task(e.task);
        if (!t) break;
        t.state = e.state;
        if (e.reason !== undefined) t.reason = e.reason;
        if (e.state === 'running') {
          t.started_t ??= e.t;
          if (e.attempt !== undefined) {
            t.attempts = Math.max(t.attempts, e.attempt);
            m.attempts++;
          }
          if (e.agent !== undefined) t.agent_now = e.agent;
          if (e.pid !== undefined) {
            t.pid = e.pid;
            const p = this.rebuilt.get(e.pid);
            if (p) {
              p.state = 'busy';
              p.task = e.task;
              p.served++;
            }
          }
        }
        if (e.state === 'succeeded' || e.state === 'failed' || e.state === 'skipped') {
          t.ended_t = e.t;
          if (e.state === 'succeeded') {
            t.served_by = e.agent ?? t.agent_now;
            if (this.opts.outputOf) t.output = clip(this.opts.outputOf(e.task));
          }
          if (t.pid !== null) this.idle(t.pid, e.task);
        }
        this.touch(t);
        break;
      }
      case 'task.failure': {
        m.failures_by_kind[e.kind] = (m.failures_by_kind[e.kind] ?? 0) + 1;
        const t = this.task(e.task);
        if (t) {
          t.failures.push({ attempt: e.attempt, agent: e.agent, kind: e.kind, message: e.message });
          this.touch(t);
        }
        this.idle(e.pid, e.task);
        break;
      }
      case 'task.retry':
        m.retries++;
        break;
      case 'task.fallback':
        m.fallbacks++;
        break;
      case 'fault.injected':
        m.faults_injected++;
        break;
      case 'process.starting':
        m.processes_spawned++;
        break;
      case 'process.ready':
        this.rebuilt.set(e.pid, {
          agent: e.agent, instance: e.instance, pid: e.pid, state: 'idle', task: null, served: 0, restarts: 0, rss_mb: 0, cpu: 0, peak_rss_mb: 0,
          quota_mb: 0, mailbox_depth: 0, tokens_used: 0, kv_pages: 0, kv_bytes: 0, rejected_messages: 0, ready_ms: e.ready_ms, exit: null,
        });
        break;
      case 'process.exited': {
        const p = this.rebuilt.get(e.pid);
        if (p) {
          p.state = e.state;
          p.task = null;
          p.exit = { code: e.code, signal: e.signal, reason: e.reason };
        }
        break;
      }
      case 'process.restart':
        m.restarts++;
        for (const p of this.rebuilt.values()) if (p.agent === e.agent && p.instance === e.instance && p.state !== 'exited' && p.state !== 'crashed') p.restarts = e.restarts;
        break;
      default:
        break;
    }
  }

  private idle(pid: number, task: string): void {
    const p = this.rebuilt.get(pid);
    if (p && p.task === task && p.state === 'busy') {
      p.state = 'idle';
      p.task = null;
    }
  }

  /** A finished run's report: its final process table and task outputs replace what events rebuilt. */
  applyReport(report: { processes?: Acb[]; tasks?: Array<{ id: string; output: unknown; served_by: string | null }>; agents?: Array<{ name: string; tokens: number; attempts_served: number }> }): void {
    this.report = report;
    for (const a of report.agents ?? []) if (a.attempts_served > 0) this.reportTokens.set(a.name, a.tokens / a.attempts_served);
    this.reportV = ++this.seq;
    if (Array.isArray(report.processes)) this.finalProcs = report.processes;
    for (const r of report.tasks ?? []) {
      const t = this.tasks.get(r.id);
      if (t) {
        t.output = clip(r.output);
        t.served_by = r.served_by;
        t.v = ++this.seq;
      }
    }
  }

  procs(): ProcView[] {
    const rows = this.opts.processes?.() ?? this.finalProcs ?? [...this.rebuilt.values()];
    return rows.map((a) => {
      const h = this.hist.get(a.pid);
      return { ...a, exit: a.exit ? { ...a.exit } : null, tokens: a.served * (this.opts.tokensPerCall?.(a.agent) ?? this.reportTokens.get(a.agent) ?? 0), rss_hist: h ? [...h.rss] : [], cpu_hist: h ? [...h.cpu] : [] };
    });
  }

  /** Oldest event seq still in the ring (a client behind it must take a snapshot). */
  get oldestSeq(): number {
    return this.ring[0]?.seq ?? this.seq + 1;
  }

  eventsSince(seq: number, max: number): SeqEvent[] | undefined {
    if (this.ring.length > 0 && seq + 1 < this.ring[0]!.seq) return undefined;
    // The ring is ordered by seq: find the first newer event from the end (deltas are short).
    let i = this.ring.length;
    while (i > 0 && this.ring[i - 1]!.seq > seq) i--;
    if (this.ring.length - i > max) return undefined;
    return this.ring.slice(i);
  }

  snapshot(maxEvents = 2000): Snapshot {
    return {
      seq: this.seq,
      run: this.run ? { ...this.run } : null,
      tasks: [...this.tasks.values()].map((t) => ({ ...t })),
      events: this.ring.slice(-Math.min(maxEvents, this.ringSize)),
      procs: this.procs(),
      metrics: structuredClone(this.metrics),
      report: this.report,
    };
  }

  /** What changed since `seq`, or undefined when the client is too far behind (send a snapshot). */
  delta(seq: number, maxEvents = 500): Delta | undefined {
    const events = this.eventsSince(seq, maxEvents);
    if (!events) return undefined;
    const tasks: TaskView[] = [];
    for (const t of this.tasks.values()) if (t.v > seq) tasks.push({ ...t });
    // The report is large and set once: only clients that have not seen it get it.
    const report = this.reportV > seq ? this.report : undefined;
    return { seq: this.seq, run: this.run ? { ...this.run } : null, tasks, events, procs: this.procs(), metrics: structuredClone(this.metrics), report };
  }
}
