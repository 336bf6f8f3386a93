/**
 * The kernel: one parent process that owns the agent pools, the scheduler, the quota sampler and the
 * reaper, runs a plan to the end (or to an interrupt), ends every process it started, and reports.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../config/agent-spec.js';
import type { Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { EventFileLogger } from '../observe/event-logger.js';
import { EventLog } from '../observe/events.js';
import { MetricsCollector } from '../observe/metrics.js';
import { TraceRecorder } from '../observe/trace.js';
import { agentReports, taskReport, writeReport, type RunReport, type RunStatus } from '../observe/report.js';
import { Scheduler, type Executor, type Injection, type TaskInjection } from '../scheduler/scheduler.js';
import { ProcessTable } from './acb.js';
import { AgentPool } from './agent-pool.js';
import type { AgentProcess } from './agent-process.js';
import { QuotaSampler } from './quota-sampler.js';
import { Reaper } from './reaper.js';
import { SyscallError, SyscallTable } from './syscalls.js';
import { z } from 'zod';
import { taskIdSchema } from '../config/plan.js';
import type { AgentOSError } from '../errors.js';
import { tmpdir } from 'node:os';
import { PACKAGE_ROOT } from '../paths.js';
import { llmConfigFromEnv, OpenAiChat } from '../llm/openai.js';
import { registerLlmSyscall } from '../llm/syscall.js';
import { ResourceMonitor, type MonitorOptions } from '../monitor/resource-monitor.js';
import { sandboxFlags } from './sandbox.js';
import { registerTaskSyscalls } from './task-syscalls.js';
import { RunHandlers } from '../transpile/run-handlers.js';
import { MessageBus } from '../bus/bus.js';
import { registerBusSyscalls } from '../bus/syscalls.js';
import { ContextManager } from '../context/manager.js';
import { registerContextSyscalls } from '../context/syscalls.js';
import { KvPageStore, type KvStats, type KvStoreOptions } from '../kvcache/store.js';
import { KvOwners, registerKvSyscalls } from '../kvcache/syscalls.js';
import type { Acb } from './acb.js';

const spawnArgsSchema = z
  .object({
    id: taskIdSchema,
    agent: z.string().min(1),
    deps: z.array(taskIdSchema).default([]),
    input: z.unknown().optional(),
    /** Per-task attempt limit; never above the agent's own timeout_ms. */
    timeout_ms: z.number().int().positive().optional(),
    /** Per-task memory quota (MiB) of the process tree; never above the agent's own memory_mb. */
    memory_mb: z.number().int().min(16).optional(),
  })
  .strict();

export interface KernelOptions {
  registry: AgentRegistry;
  /** Parent of the run directory (`<runsDir>/<run_id>`). */
  runsDir: string;
  runId?: string;
  /** @default 2 x CPU cores, at least 4 */
  concurrency?: number;
  injections?: readonly Injection[];
  /** Faults for single tasks by id, committed inside the child (stress runs). */
  taskInjections?: ReadonlyMap<string, TaskInjection>;
  /** Quota sampler period. @default 250 */
  sampleIntervalMs?: number;
  /** @default 1000 */
  maxDynamicTasks?: number;
  /** Write events.jsonl. @default true */
  eventLog?: boolean;
  /** Apply agent.yaml `sandbox:` sections (Node permission model). @default true */
  sandbox?: boolean;
  /** Extra sandbox path variables (PACKAGE, RUN_DIR, WORK, OUT, TMPDIR are set by the kernel). */
  sandboxVars?: Record<string, string>;
  /** Model client for `llm.chat`; undefined: from AGENTOS_LLM_* ; null: none. */
  llm?: OpenAiChat | null;
  /** Resource-aware concurrency between min and max; off when absent. */
  monitor?: MonitorOptions;
  /** Write trace.json (Chrome Trace Event format) when the run finishes. @default true */
  trace?: boolean;
  /** KV-cache page store settings (block size, payload width, capacity, prefix caching). */
  kv?: KvStoreOptions;
}

const WORKER_DIR = fileURLToPath(new URL('../../worker/', import.meta.url));

/** An exception thrown by Node's IPC parser when a child wrote bytes that are not a message. */
function isIpcParseError(err: unknown): boolean {
  return err instanceof SyntaxError && /parseChannelMessages|child_process\/serialization/.test(err.stack ?? '');
}

export class Kernel implements Executor {
  readonly runId: string;
  readonly runDir: string;
  /** TypeScript handlers transpiled for this run (src/transpile). */
  private readonly handlers: RunHandlers;
  readonly events = new EventLog();
  readonly table = new ProcessTable();
  readonly scheduler: Scheduler;
  /** Operations agents may call; each kernel part registers its own (see syscalls.ts). */
  readonly syscalls = new SyscallTable();
  private readonly pools = new Map<string, AgentPool>();
  private readonly metrics: MetricsCollector;
  private readonly sampler: QuotaSampler;
  private readonly logger: EventFileLogger | undefined;
  private reaper: Reaper | undefined;
  private readonly startedAt = new Date();
  private interruptedBy: string | undefined;
  private wakeInterrupt: (() => void) | undefined;
  private readonly interrupted = new Promise<void>((resolve) => (this.wakeInterrupt = resolve));
  private shutdownP: Promise<void> | undefined;
  /** Sandbox path variables of this run. */
  readonly vars: Record<string, string>;
  readonly monitor: ResourceMonitor | undefined;
  // The bus, the context manager and the KV store are made on first use: a run that never calls them
  // pays nothing for them on the dispatch path.
  private busP: MessageBus | undefined;
  private contextP: ContextManager | undefined;
  private kvP: KvPageStore | undefined;
  private readonly kvOwners = new KvOwners(() => this.kv);
  private peakKv: KvStats | undefined;
  /** An uncaught error in the kernel itself; the CLI exits 70 when set. */
  fatalError: unknown;
  private readonly onUncaught = (err: unknown): void => {
    if (isIpcParseError(err)) {
      // A child wrote raw bytes that are not a message. Node cannot tell us which child: count it, go on.
      this.events.emit({ type: 'ipc.garbage', message: (err as Error).message.slice(0, 200) });
      return;
    }
    this.fatalError = err;
    if (this.runningPlan) {
      // run() ends every agent, writes the report and returns; the CLI then exits 70.
      this.interrupt('uncaughtException');
      return;
    }
    // Embedded use (start/submit): the error is not ours to swallow. End the agents, then fail the
    // process the way Node would have, with the error on stderr.
    process.stderr.write(`agentos kernel: uncaught error, stopping every agent: ${(err as Error)?.stack ?? String(err)}\n`);
    this.interrupt('uncaughtException');
    void this.shutdown().finally(() => process.exit(70));
  };
  private runningPlan = false;

  constructor(private readonly opts: KernelOptions) {
    this.runId = opts.runId ?? randomBytes(3).toString('hex');
    this.runDir = join(opts.runsDir, this.runId);
    this.handlers = new RunHandlers(this.runDir);
    mkdirSync(join(this.runDir, 'logs'), { recursive: true });
    this.metrics = new MetricsCollector(this.events);
    if (opts.eventLog !== false) this.logger = new EventFileLogger(this.events, this.runDir);
    // A subscriber like the logger: builds the trace from events, writes it on run.finished.
    if (opts.trace !== false) new TraceRecorder(this.events, this.runDir);
    this.scheduler = new Scheduler(this, this.events, {
      concurrency: opts.concurrency ?? 8,
      injections: opts.injections ?? [],
      taskInjections: opts.taskInjections,
      maxDynamicTasks: opts.maxDynamicTasks ?? 1000,
    });
    this.syscalls.register('task.spawn', (caller, args) => {
      const parsed = spawnArgsSchema.safeParse(args);
      if (!parsed.success) throw new SyscallError('E_SCHEMA', `ctx.spawn: ${parsed.error.issues[0]?.path.join('.') || 'task'}: ${parsed.error.issues[0]?.message}`);
      try {
        const rec = this.scheduler.addDynamic(parsed.data, caller.taskId);
        return { id: rec.id, state: rec.state };
      } catch (err) {
        const e = err as AgentOSError;
        this.events.emit({ type: 'task.spawn_rejected', task: parsed.data.id, by: caller.taskId, code: e.code ?? 'E_INTERNAL', message: e.message });
        throw new SyscallError(e.code ?? 'E_INTERNAL', e.message);
      }
    });
    registerTaskSyscalls(this.syscalls, this.scheduler, this.events);
    const llmConfig = opts.llm === undefined ? llmConfigFromEnv() : undefined;
    registerLlmSyscall(this.syscalls, opts.llm === undefined ? (llmConfig ? new OpenAiChat(llmConfig) : undefined) : (opts.llm ?? undefined), this.events);
    this.vars = {
      PACKAGE: PACKAGE_ROOT.replace(/\/+$/, ''),
      RUN_DIR: this.runDir,
      WORK: join(this.runDir, 'work'),
      OUT: join(this.runDir, 'out'),
      // The repository the run is about; a repair sets it to its working copy.
      TARGET: join(this.runDir, 'work'),
      TMPDIR: tmpdir(),
      ...opts.sandboxVars,
    };
    mkdirSync(this.vars.WORK!, { recursive: true });
    mkdirSync(this.vars.OUT!, { recursive: true });
    if (opts.monitor) {
      const s = this.scheduler;
      this.monitor = new ResourceMonitor(this.events, () => s.concurrency, (n) => s.setConcurrency(n), opts.monitor);
    }
    registerBusSyscalls(this.syscalls, () => this.bus);
    registerContextSyscalls(this.syscalls, () => this.context);
    registerKvSyscalls(this.syscalls, () => this.kv, this.kvOwners);
    this.sampler = new QuotaSampler(() => this.liveProcesses(), this.events, opts.sampleIntervalMs ?? 250);
  }

  get bus(): MessageBus {
    this.busP ??= new MessageBus({
      events: this.events,
      agent: (name) => (this.opts.registry.has(name) ? this.opts.registry.get(name) : undefined),
      task: (id) => this.scheduler.graph.get(id),
      live: () => this.table.live(),
    });
    return this.busP;
  }

  get context(): ContextManager {
    this.contextP ??= new ContextManager({
      events: this.events,
      depOutputs: (task) => {
        const rec = this.scheduler.graph.get(task);
        return rec ? this.scheduler.graph.depOutputs(rec) : {};
      },
      agent: (name) => (this.opts.registry.has(name) ? this.opts.registry.get(name) : undefined),
    });
    return this.contextP;
  }

  get kv(): KvPageStore {
    this.kvP ??= new KvPageStore(this.opts.kv);
    return this.kvP;
  }

  /** A process ended (exit or crash): free what it held in kernel parts. */
  private processEnded(acb: Acb): void {
    this.busP?.processEnded(acb);
    if (this.kvP) {
      const n = this.kvOwners.release(acb);
      if (n > 0) this.events.emit({ type: 'kv.released', agent: acb.agent, instance: acb.instance, pid: acb.pid, sequences: n });
    }
  }

  // ---- Executor -------------------------------------------------------------------------------

  /** Token budget: an agent that spent its budget takes no more work (kind token_quota). */
  admit(agent: string): string | undefined {
    return this.contextP?.admit(agent);
  }

  /** Only called for agents with a token_budget: their outputs count against it too. */
  async settled(agent: string, task: string, acb: Acb, output: unknown): Promise<void> {
    let text: string;
    try {
      text = typeof output === 'string' ? output : (JSON.stringify(output) ?? '');
    } catch {
      text = String(output);
    }
    await this.context.chargeText(acb, task, text);
  }

  chain(agent: string): AgentSpec[] {
    return this.opts.registry.chain(agent);
  }

  hasAgent(agent: string): boolean {
    return this.opts.registry.has(agent);
  }

  pool(agent: string): AgentPool {
    let pool = this.pools.get(agent);
    if (!pool) {
      const spec = this.handlers.spec(this.opts.registry.get(agent));
      const reaper = this.ensureReaper();
      pool = new AgentPool(
        spec,
        {
          runId: this.runId,
          workerPath: join(WORKER_DIR, 'host.js'),
          events: this.events,
          logDir: join(this.runDir, 'logs'),
          syscalls: this.syscalls,
          nodeFlags: (s) => (this.opts.sandbox === false ? [] : sandboxFlags(s, this.vars)),
          ended: (acb) => this.processEnded(acb),
          track: (pgid) => reaper.track(pgid),
          untrack: (pgid) => reaper.untrack(pgid),
        },
        this.table,
      );
      this.pools.set(agent, pool);
      void pool.start();
    }
    return pool;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  private ensureReaper(): Reaper {
    this.reaper ??= new Reaper(WORKER_DIR, this.runId);
    return this.reaper;
  }

  private liveProcesses(): AgentProcess[] {
    const out: AgentProcess[] = [];
    for (const pool of this.pools.values()) out.push(...pool.processes());
    return out;
  }

  /** Start the processes of these agents (and their fallbacks) and wait until each is ready or failed. */
  async start(agents: Iterable<string>): Promise<void> {
    const names = new Set<string>();
    for (const a of agents) for (const s of this.chain(a)) names.add(s.name);
    await this.handlers.prepareAll([...names].map((n) => this.opts.registry.get(n)));
    process.on('uncaughtException', this.onUncaught);
    await Promise.all([...names].map((n) => this.pool(n).start()));
    this.sampler.start();
    await this.monitor?.start();
  }

  /** Run a checked plan to the end, or until interrupt(); ends every process and writes the report. */
  async run(plan: Plan, reportFile?: string): Promise<RunReport> {
    // TypeScript handlers are transpiled (and their syntax errors reported as bad input) before the run starts.
    await this.handlers.prepareAll([...new Set(plan.tasks.map((t) => t.agent))].flatMap((a) => this.chain(a)));
    this.events.emit({ type: 'run.started', run_id: this.runId, plan: plan.name, tasks: plan.tasks.length, agents: [...new Set(plan.tasks.map((t) => t.agent))], run_dir: this.runDir });
    const t0 = performance.now();
    this.runningPlan = true;
    await this.start(plan.tasks.map((t) => t.agent));
    if (!this.interruptedBy) this.scheduler.addPlan(plan.tasks);
    await Promise.race([this.scheduler.done, this.interrupted]);
    if (this.interruptedBy) this.scheduler.settleInterrupted(this.events.now());
    await this.shutdown();
    const status: RunStatus = this.interruptedBy ? 'interrupted' : [...this.scheduler.graph.tasks.values()].every((t) => t.state === 'succeeded' || t.cancelled) ? 'succeeded' : 'failed';
    const duration = Math.round(performance.now() - t0);
    this.events.emit({ type: 'run.finished', run_id: this.runId, status, duration_ms: duration });
    const report = this.report(plan.name, status, duration);
    writeReport(join(this.runDir, 'report.json'), report);
    if (reportFile) writeReport(reportFile, report);
    this.logger?.close();
    return report;
  }

  /**
   * Long-lived use (benchmarks, embedding): after start(), add one task and wait for its final state.
   * Bad tasks reject with an AgentOSError and change nothing.
   */
  async submit(task: { id: string; agent: string; deps?: string[]; input?: unknown }) {
    this.scheduler.addDynamic(task);
    return this.scheduler.whenFinished(task.id);
  }

  /** Stop dispatching and end the run as `interrupted` (SIGINT, SIGTERM, a fatal error). Idempotent. */
  interrupt(reason: string): void {
    if (this.interruptedBy) return;
    this.interruptedBy = reason;
    this.events.emit({ type: 'run.interrupted', signal: reason });
    this.scheduler.interrupt();
    this.wakeInterrupt?.();
  }

  get interruptReason(): string | undefined {
    return this.interruptedBy;
  }

  /** End every agent process and the reaper. Idempotent; resolves when all are gone. */
  shutdown(): Promise<void> {
    this.shutdownP ??= (async () => {
      this.sampler.stop();
      this.monitor?.stop();
      // What is still in a mailbox now is never received: dead letters. Waiting receivers get null.
      this.busP?.close();
      // The KV figures at their fullest are kept for the report: every page is freed as processes end.
      if (this.kvP) this.peakKv = this.kvP.stats();
      await Promise.all([...this.pools.values()].map((p) => p.close()));
      await this.reaper?.close();
      process.off('uncaughtException', this.onUncaught);
    })();
    return this.shutdownP;
  }

  report(plan: string, status: RunStatus, durationMs: number): RunReport {
    const tasks = [...this.scheduler.graph.tasks.values()];
    const count = (s: string): number => tasks.filter((t) => t.state === s).length;
    const restarts = new Map([...this.pools].map(([n, p]) => [n, p.restartCount]));
    const tokens = new Map([...this.pools].map(([n, p]) => [n, p.spec.cost.tokens_per_call]));
    const open = new Set([...this.pools].filter(([, p]) => p.open).map(([n]) => n));
    return {
      run_id: this.runId,
      plan,
      status,
      started_at: this.startedAt.toISOString(),
      duration_ms: durationMs,
      run_dir: this.runDir,
      kernel: { pid: process.pid, reaper_pid: this.reaper?.pid ?? null },
      tasks: tasks.map(taskReport),
      agents: agentReports(this.table.all(), restarts, tokens, open),
      processes: this.table.all().map((a) => ({ ...a })),
      resources: this.monitor ? { samples: this.monitor.samples, decisions: this.monitor.decisions } : undefined,
      metrics: {
        ...this.metrics.snapshot(),
        tasks: { total: tasks.length, succeeded: count('succeeded'), failed: count('failed'), skipped: count('skipped') },
      },
      ...(this.busP ? { bus: this.busP.report() } : {}),
      ...(this.contextP ? { context: this.contextP.report() } : {}),
      ...(this.kvP ? { kv: { before_shutdown: this.peakKv ?? this.kvP.stats(), after_shutdown: this.kvP.stats() } } : {}),
    };
  }
}
