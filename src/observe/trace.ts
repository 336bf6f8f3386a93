/**
 * trace.json in Chrome Trace Event format (loadable in Perfetto and chrome://tracing), built only from
 * kernel events. Layout:
 *  - the kernel is one process track (its own pid): a slice for the whole run, instants for restarts,
 *    circuit openings, quota kills and the interrupt;
 *  - every agent process is its own process track (its OS pid), named `agent#instance`: one complete
 *    slice ("X") per task attempt it served, instants for injected faults, failures and retries,
 *    and an `rss_mb` counter from the quota sampler.
 * Timestamps are microseconds since the run began (the events' `t`, which is in ms).
 */
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLog, TimedEvent } from '../kernel-api/events.js';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'B' | 'E' | 'i' | 'C' | 'M';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  s?: 'g' | 'p' | 't';
  cat?: string;
  args?: Record<string, unknown>;
}

export interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string>;
}

interface OpenSlice {
  task: string;
  agent: string;
  attempt: number;
  pid: number;
  ts: number;
}

const us = (ms: number): number => Math.round(ms * 1000);

/** Most trace events kept; past this, counters are dropped first (slices and instants are what matter). */
const MAX_EVENTS = 200_000;

export class TraceRecorder {
  private readonly out: TraceEvent[] = [];
  private readonly open = new Map<string, OpenSlice>();
  private readonly named = new Set<number>();
  private readonly kernelPid = process.pid;
  private runId = '';
  private runStart = 0;
  private droppedCounters = 0;
  private readonly off: () => void;

  /** `runDir`: where trace.json goes when the run finishes (undefined: only build it, see toJSON()). */
  constructor(events: EventLog, private readonly runDir?: string) {
    this.meta(this.kernelPid, 'agentos-kernel', 0);
    this.off = events.on((e) => this.apply(e));
  }

  private meta(pid: number, name: string, sortIndex: number): void {
    if (this.named.has(pid)) return;
    this.named.add(pid);
    this.out.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: pid, args: { name } });
    this.out.push({ name: 'process_sort_index', ph: 'M', ts: 0, pid, tid: pid, args: { sort_index: sortIndex } });
    this.out.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid: pid, args: { name: pid === this.kernelPid ? 'kernel' : 'attempts' } });
  }

  private instant(pid: number, name: string, ts: number, cat: string, args: Record<string, unknown>): void {
    this.out.push({ name, ph: 'i', s: 't', ts: us(ts), pid, tid: pid, cat, args });
  }

  private close(key: string, t: number, outcome: string, extra: Record<string, unknown> = {}): void {
    const s = this.open.get(key);
    if (!s) return;
    this.open.delete(key);
    this.out.push({ name: s.task, ph: 'X', ts: us(s.ts), dur: Math.max(0, us(t) - us(s.ts)), pid: s.pid, tid: s.pid, cat: 'attempt', args: { task: s.task, agent: s.agent, attempt: s.attempt, outcome, ...extra } });
  }

  /** Apply one event (public so a finished run's events.jsonl can be turned into a trace too). */
  apply(e: TimedEvent): void {
    switch (e.type) {
      case 'run.started':
        this.runId = e.run_id;
        this.runStart = e.t;
        break;
      case 'process.ready':
        this.meta(e.pid, `${e.agent}#${e.instance} (pid ${e.pid})`, 1 + e.instance);
        this.instant(e.pid, 'ready', e.t, 'process', { ready_ms: e.ready_ms });
        break;
      case 'process.exited':
        if (e.state === 'crashed') this.instant(e.pid, `exit: ${e.reason}`, e.t, 'fault', { code: e.code, signal: e.signal, reason: e.reason });
        break;
      case 'process.restart':
        this.instant(this.kernelPid, `restart ${e.agent}#${e.instance}`, e.t, 'restart', { agent: e.agent, instance: e.instance, restarts: e.restarts });
        break;
      case 'agent.circuit_open':
        this.instant(this.kernelPid, `circuit open ${e.agent}`, e.t, 'restart', { agent: e.agent, restarts: e.restarts });
        break;
      case 'task.state':
        if (e.state === 'running' && e.pid !== undefined && e.attempt !== undefined && e.agent !== undefined) {
          this.meta(e.pid, `${e.agent}#${e.instance ?? 0} (pid ${e.pid})`, 1 + (e.instance ?? 0));
          this.open.set(`${e.task}#${e.attempt}`, { task: e.task, agent: e.agent, attempt: e.attempt, pid: e.pid, ts: e.t });
        } else if (e.state === 'succeeded' && e.attempt !== undefined) {
          this.close(`${e.task}#${e.attempt}`, e.t, 'succeeded');
        } else if (e.state === 'skipped' || e.state === 'failed') {
          for (const key of [...this.open.keys()]) if (key.startsWith(`${e.task}#`)) this.close(key, e.t, e.state, { reason: e.reason });
        }
        break;
      case 'task.failure':
        this.close(`${e.task}#${e.attempt}`, e.t, 'failed', { kind: e.kind, message: e.message });
        this.instant(e.pid, `failure: ${e.kind}`, e.t, 'fault', { task: e.task, attempt: e.attempt, kind: e.kind, message: e.message });
        break;
      case 'fault.injected': {
        const s = this.open.get(`${e.task}#${e.attempt}`);
        this.instant(s?.pid ?? this.kernelPid, `inject: ${e.fault}`, e.t, 'fault', { task: e.task, agent: e.agent, attempt: e.attempt, fault: e.fault });
        break;
      }
      case 'task.retry':
        this.instant(this.kernelPid, `retry ${e.task}`, e.t, 'retry', { task: e.task, agent: e.agent, attempt: e.attempt, delay_ms: e.delay_ms });
        break;
      case 'task.fallback':
        this.instant(this.kernelPid, `fallback ${e.task}`, e.t, 'retry', { task: e.task, from: e.from, to: e.to });
        break;
      case 'quota.exceeded':
        this.instant(e.pid, 'quota kill', e.t, 'fault', { rss_mb: e.rss_mb, quota_mb: e.quota_mb });
        break;
      case 'quota.sample':
        if (this.out.length >= MAX_EVENTS) {
          this.droppedCounters += e.samples.length;
          break;
        }
        for (const s of e.samples) {
          this.meta(s.pid, `${s.agent}#${s.instance} (pid ${s.pid})`, 1 + s.instance);
          this.out.push({ name: 'rss_mb', ph: 'C', ts: us(e.t), pid: s.pid, tid: s.pid, args: { rss_mb: s.rss_mb } });
        }
        break;
      case 'run.interrupted':
        this.instant(this.kernelPid, `interrupted (${e.signal})`, e.t, 'run', { signal: e.signal });
        break;
      case 'run.finished':
        for (const key of [...this.open.keys()]) this.close(key, e.t, 'unfinished');
        this.out.push({ name: `run ${e.run_id}`, ph: 'X', ts: us(this.runStart), dur: Math.max(0, us(e.t) - us(this.runStart)), pid: this.kernelPid, tid: this.kernelPid, cat: 'run', args: { status: e.status } });
        if (this.runDir) this.write(join(this.runDir, 'trace.json'));
        this.off();
        break;
      default:
        break;
    }
  }

  toJSON(): TraceFile {
    const otherData: Record<string, string> = { run_id: this.runId, producer: 'agentos' };
    if (this.droppedCounters > 0) otherData.dropped_counter_samples = String(this.droppedCounters);
    return { traceEvents: this.out, displayTimeUnit: 'ms', otherData };
  }

  /** Written atomically, like the report. */
  write(file: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.toJSON()));
    renameSync(tmp, file);
  }
}
