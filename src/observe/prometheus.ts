/**
 * Prometheus metrics for one run (prom-client, one Registry per run so runs in one process never mix).
 * Counters and the histogram follow kernel events; gauges read the task graph and the ACB table when
 * scraped, so nothing here runs on the kernel's dispatch path beyond an O(1) event listener.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Acb } from '../kernel-api/acb.js';
import type { EventLog, TaskState, TimedEvent } from '../kernel-api/events.js';

export interface MetricsSource {
  events: EventLog;
  /** The ACB table (live and ended processes). */
  processes: () => readonly Acb[];
  /** Current state of every task. */
  taskStates: () => Iterable<TaskState>;
  /** Tokens an agent is charged per call (agent.yaml `cost.tokens_per_call`). */
  tokensPerCall: (agent: string) => number;
  runId: string;
}

const TASK_STATES: readonly TaskState[] = ['pending', 'ready', 'running', 'succeeded', 'failed', 'skipped'];

export class RunMetricsExporter {
  readonly registry = new Registry();
  private readonly off: () => void;
  /** Attempt start times, by task#attempt, for the request latency histogram. */
  private readonly started = new Map<string, number>();

  constructor(src: MetricsSource) {
    const r = [this.registry];
    this.registry.setDefaultLabels({ run: src.runId });
    collectDefaultMetrics({ register: this.registry, prefix: 'agentos_kernel_' });

    new Gauge({
      name: 'agentos_tasks',
      help: 'Tasks of the run by state',
      labelNames: ['state'],
      registers: r,
      collect() {
        const n = new Map<TaskState, number>(TASK_STATES.map((s) => [s, 0]));
        for (const s of src.taskStates()) n.set(s, (n.get(s) ?? 0) + 1);
        for (const [state, v] of n) this.set({ state }, v);
      },
    });
    const attempts = new Counter({ name: 'agentos_task_attempts_total', help: 'Task attempts dispatched to agent processes', labelNames: ['agent'], registers: r });
    const retries = new Counter({ name: 'agentos_task_retries_total', help: 'Task attempts retried after a failure', labelNames: ['agent'], registers: r });
    const failures = new Counter({ name: 'agentos_faults_total', help: 'Failed attempts by failure kind (crash, timeout, memory, exception, invalid_output, ...)', labelNames: ['kind', 'agent'], registers: r });
    const injected = new Counter({ name: 'agentos_faults_injected_total', help: 'Faults injected on purpose (--inject)', labelNames: ['fault', 'agent'], registers: r });
    const restarts = new Counter({ name: 'agentos_restarts_total', help: 'Deaths of agent processes counted as restarts (each process.restart event, also the one that opened the circuit)', labelNames: ['agent'], registers: r });
    const latency = new Histogram({
      name: 'agentos_ipc_request_seconds',
      help: 'Round trip of a task request over IPC: kernel sends the attempt, the child replies (includes the handler work)',
      labelNames: ['agent', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    new Gauge({
      name: 'agentos_process_rss_bytes',
      help: 'Resident set size of each live agent process (last quota sample)',
      labelNames: ['agent', 'instance', 'pid'],
      registers: r,
      collect() {
        this.reset();
        for (const a of src.processes()) if (a.state !== 'exited' && a.state !== 'crashed') this.set({ agent: a.agent, instance: String(a.instance), pid: String(a.pid) }, Math.round(a.rss_mb * 1024 * 1024));
      },
    });
    new Gauge({
      name: 'agentos_process_cpu_percent',
      help: 'CPU use of each live agent process (last quota sample, percent of one core)',
      labelNames: ['agent', 'instance', 'pid'],
      registers: r,
      collect() {
        this.reset();
        for (const a of src.processes()) if (a.state !== 'exited' && a.state !== 'crashed') this.set({ agent: a.agent, instance: String(a.instance), pid: String(a.pid) }, a.cpu);
      },
    });
    new Gauge({
      name: 'agentos_mailbox_depth',
      help: 'Messages waiting in each live agent process mailbox',
      labelNames: ['agent', 'instance'],
      registers: r,
      collect() {
        this.reset();
        for (const a of src.processes()) if (a.state !== 'exited' && a.state !== 'crashed') this.set({ agent: a.agent, instance: String(a.instance) }, a.mailbox_depth);
      },
    });
    new Gauge({
      name: 'agentos_processes',
      help: 'Agent processes by state (ACB table)',
      labelNames: ['state'],
      registers: r,
      collect() {
        this.reset();
        const n = new Map<string, number>();
        for (const a of src.processes()) n.set(a.state, (n.get(a.state) ?? 0) + 1);
        for (const [state, v] of n) this.set({ state }, v);
      },
    });
    new Gauge({
      name: 'agentos_tokens',
      help: 'Tokens charged per agent (attempts served x cost.tokens_per_call)',
      labelNames: ['agent'],
      registers: r,
      collect() {
        this.reset();
        const n = new Map<string, number>();
        for (const a of src.processes()) n.set(a.agent, (n.get(a.agent) ?? 0) + a.served * src.tokensPerCall(a.agent));
        for (const [agent, v] of n) this.set({ agent }, v);
      },
    });

    new Gauge({
      name: 'agentos_context_tokens_used',
      help: 'Context tokens charged to each agent by the context manager (ACB tokens_used)',
      labelNames: ['agent'],
      registers: r,
      collect() {
        this.reset();
        const n = new Map<string, number>();
        for (const a of src.processes()) n.set(a.agent, (n.get(a.agent) ?? 0) + (a.tokens_used ?? 0));
        for (const [agent, v] of n) this.set({ agent }, v);
      },
    });
    new Gauge({
      name: 'agentos_kv_pages',
      help: 'KV-cache pages referenced by each live agent process',
      labelNames: ['agent', 'instance'],
      registers: r,
      collect() {
        this.reset();
        for (const a of src.processes()) if (a.state !== 'exited' && a.state !== 'crashed') this.set({ agent: a.agent, instance: String(a.instance) }, a.kv_pages ?? 0);
      },
    });

    this.off = src.events.on((e: TimedEvent) => {
      switch (e.type) {
        case 'task.state':
          if (e.state === 'running' && e.attempt !== undefined && e.agent !== undefined) {
            attempts.inc({ agent: e.agent });
            this.started.set(`${e.task}#${e.attempt}`, e.t);
          } else if (e.state === 'succeeded' && e.attempt !== undefined) {
            this.observe(latency, e.task, e.attempt, e.agent ?? '', 'ok', e.t);
          } else if (e.state === 'skipped' || e.state === 'failed') {
            for (const k of this.started.keys()) if (k.startsWith(`${e.task}#`)) this.started.delete(k);
          }
          break;
        case 'task.failure':
          failures.inc({ kind: e.kind, agent: e.agent });
          this.observe(latency, e.task, e.attempt, e.agent, e.kind, e.t);
          break;
        case 'task.retry':
          retries.inc({ agent: e.agent });
          break;
        case 'fault.injected':
          injected.inc({ fault: e.fault, agent: e.agent });
          break;
        case 'process.restart':
          restarts.inc({ agent: e.agent });
          break;
        default:
          break;
      }
    });
  }

  private observe(h: Histogram, task: string, attempt: number, agent: string, outcome: string, t: number): void {
    const key = `${task}#${attempt}`;
    const t0 = this.started.get(key);
    if (t0 === undefined) return;
    this.started.delete(key);
    h.observe({ agent, outcome }, Math.max(0, t - t0) / 1000);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.off();
  }
}
