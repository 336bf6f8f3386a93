/**
 * The kernel, the composition root: it wires the scheduler to the local AttemptRunner (process/), the
 * services agents reach by syscalls (bus, context, KV store, model), the observers (events.jsonl, trace,
 * metrics), runs a plan to the end (or to an interrupt), ends every process it started, and reports.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { DEFAULTS } from '../config/defaults.js';
import { ProcessTable, type Acb } from '../kernel-api/acb.js';
import type { AttemptPlace } from '../kernel-api/attempt-runner.js';
import { EventLog } from '../kernel-api/events.js';
import type { SchedulingPolicy } from '../kernel-api/scheduling.js';
import { SyscallTable } from '../kernel-api/syscalls.js';
import { llmConfigFromEnv, OpenAiChat } from '../llm/openai.js';
import { registerLlmSyscall } from '../llm/syscall.js';
import { ResourceMonitor } from '../monitor/resource-monitor.js';
import { EventFileLogger } from '../observe/event-logger.js';
import { IncidentLog } from '../observe/incidents.js';
import { MetricsCollector } from '../observe/metrics.js';
import { buildReport, writeReport, type RunReport, type RunStatus } from '../observe/report.js';
import type { RunState } from '../journal/replay.js';
import { TraceRecorder } from '../observe/trace.js';
import { PACKAGE_ROOT } from '../paths.js';
import { LocalRunner } from '../process/local-runner.js';
import { sandboxFlags } from '../process/sandbox.js';
import { Scheduler, type NewTask } from '../scheduler/scheduler.js';
import { registerTaskSyscalls } from '../scheduler/task-syscalls.js';
import type { KernelOptions } from './options.js';
import { Services } from './services.js';
import { RunContainment } from './run-containment.js';
import { boundedClose, SHUTDOWN_SLACK_MS } from './shutdown.js';
import { JournalFacts } from './durable.js';
import { closeRun, openRun, type OpenRun } from './run-journal.js';
import { RunHandlers } from '../transpile/run-handlers.js';

export type { KernelOptions } from './options.js';

const WORKER_DIR = fileURLToPath(new URL('../../worker/', import.meta.url));

export class Kernel {
  readonly runId: string;
  readonly runDir: string;
  /** TypeScript handlers transpiled for this run (src/transpile). */
  private readonly handlers: RunHandlers;
  readonly events = new EventLog();
  readonly table = new ProcessTable();
  readonly scheduler: Scheduler;
  /** Operations agents may call; each kernel part registers its own (see kernel-api/syscalls.ts). */
  readonly syscalls = new SyscallTable();
  /** The local AttemptRunner: agent pools, quota sampler, reaper. */
  readonly runner: LocalRunner;
  /** Bus, context manager, KV store: made on first use. */
  readonly services: Services;
  private readonly metrics: MetricsCollector;
  private readonly logger: EventFileLogger | undefined;
  private readonly startedAt = new Date();
  private interruptedBy: string | undefined;
  private wakeInterrupt: (() => void) | undefined;
  private readonly interrupted = new Promise<void>((resolve) => (this.wakeInterrupt = resolve));
  private shutdownP: Promise<void> | undefined;
  private interrupts = 0;
  private wakeForced: (() => void) | undefined;
  private readonly forced = new Promise<void>((resolve) => (this.wakeForced = resolve));
  private readonly incidents: IncidentLog;
  /** The control socket serving this run (set by its watcher): a lost kernel's reaper removes it. */
  controlSocket: string | undefined;
  /** Sandbox path variables of this run. */
  readonly vars: Record<string, string>;
  readonly monitor: ResourceMonitor | undefined;
  /** An uncaught error in the kernel itself; the CLI exits 70 when set. */
  fatalError: unknown;
  private runningPlan = false;
  /** The run journal's sink (src/kernel/durable.ts): attached in run(), unless `journal: false`. */
  readonly journal: JournalFacts;
  private durableRun: OpenRun | undefined;
  /** The run's containment: one cell per agent process (run-containment.ts); made on first use, after reapStale. */
  private readonly contain: RunContainment;
  private readonly onUncaught = (err: unknown): void => {
    this.fatalError = err;
    this.interrupt('uncaughtException');
    // run() ends every agent, writes the report and returns; the CLI then exits 70.
    if (this.runningPlan) return;
    // Embedded use (start/submit): the error is not ours to swallow. End the agents, then fail the
    // process the way Node would have, with the error on stderr.
    process.stderr.write(`agentos kernel: uncaught error, stopping every agent: ${(err as Error)?.stack ?? String(err)}\n`);
    void this.shutdown().finally(() => process.exit(70));
  };

  constructor(private readonly opts: KernelOptions) {
    this.runId = opts.runId ?? randomBytes(3).toString('hex');
    this.contain = new RunContainment(this.runId, opts.containment, opts.runtimeDir, this.events);
    this.runDir = join(opts.runsDir, this.runId);
    this.handlers = new RunHandlers(this.runDir);
    mkdirSync(join(this.runDir, 'logs'), { recursive: true });
    this.metrics = new MetricsCollector(this.events);
    this.incidents = new IncidentLog(this.events);
    if (opts.eventLog !== false) this.logger = new EventFileLogger(this.events, this.runDir);
    // A subscriber like the logger: builds the trace from events, writes it on run.finished.
    if (opts.trace !== false) new TraceRecorder(this.events, this.runDir);
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
    const registry = opts.registry;
    this.journal = new JournalFacts((err) => this.journalFailed(err));
    this.runner = new LocalRunner({
      runId: this.runId,
      workerDir: WORKER_DIR,
      logDir: join(this.runDir, 'logs'),
      spec: (agent) => this.handlers.spec(registry.get(agent)),
      events: this.events,
      syscalls: this.syscalls,
      table: this.table,
      nodeFlags: (s) => (opts.sandbox === false ? [] : sandboxFlags(s, this.vars)),
      ended: (acb) => this.services.processEnded(acb),
      sampleIntervalMs: opts.sampleIntervalMs ?? DEFAULTS.sampleMs,
      reaper: { runDir: this.runDir, events: this.events, socket: () => this.controlSocket },
      containment: () => this.contain.get(),
    });
    this.scheduler = new Scheduler({ ...this.policy(), runner: opts.attemptRunner ?? this.runner, facts: opts.facts ?? this.journal }, this.events, {
      runId: this.runId,
      onFactsFailed: (err) => this.journalFailed(err),
      concurrency: opts.concurrency ?? DEFAULTS.concurrency,
      injections: opts.injections ?? [],
      taskInjections: opts.taskInjections,
      maxDynamicTasks: opts.maxDynamicTasks ?? DEFAULTS.maxDynamicTasks,
    });
    this.services = new Services({ registry, events: this.events, table: this.table, graph: this.scheduler.graph, kv: opts.kv, syscalls: this.syscalls, journal: this.journal });
    registerTaskSyscalls(this.syscalls, this.scheduler, this.events);
    const llmConfig = opts.llm === undefined ? llmConfigFromEnv() : undefined;
    registerLlmSyscall(this.syscalls, opts.llm === undefined ? (llmConfig ? new OpenAiChat(llmConfig) : undefined) : (opts.llm ?? undefined), this.events);
    if (opts.monitor) {
      const s = this.scheduler;
      this.monitor = new ResourceMonitor(this.events, () => s.concurrency, (n) => s.setConcurrency(n), opts.monitor);
    }
  }

  /** The agents of this run. */
  get registry(): AgentRegistry {
    return this.opts.registry;
  }

  /** The kernel's hooks into scheduling: fallback chains from the registry, token budgets from the context. */
  private policy(): SchedulingPolicy {
    const registry = this.opts.registry;
    return {
      chain: (agent) => registry.chain(agent),
      hasAgent: (agent) => registry.has(agent),
      // Token budget: an agent that spent its budget takes no more work (kind token_quota).
      admit: (agent) => this.services.admit(agent),
      // Only called for agents with a token_budget: their outputs count against it too.
      settled: async (_agent, task, place: AttemptPlace, output) => {
        const acb: Acb | undefined = this.table.byPid(place.pid);
        if (acb) await this.services.chargeOutput(acb, task, output);
      },
    };
  }

  /** Start the processes of these agents (and their fallbacks) and wait until each is ready or failed. */
  async start(agents: Iterable<string>): Promise<void> {
    await this.contain.reapStale();
    const names = new Set<string>();
    for (const a of agents) for (const s of this.opts.registry.chain(a)) names.add(s.name);
    await this.handlers.prepareAll([...names].map((n) => this.opts.registry.get(n)));
    process.on('uncaughtException', this.onUncaught);
    // A remote runner (cluster mode) runs attempts on nodes: no pool here.
    if (!this.opts.attemptRunner) await this.runner.start(names);
    await this.monitor?.start();
  }

  /** Run a checked plan to the end, or until interrupt(); ends every process and writes the report. */
  async run(plan: Plan, reportFile?: string): Promise<RunReport> {
    // TypeScript handlers are transpiled (and their syntax errors reported as bad input) before the run starts.
    await this.handlers.prepareAll([...new Set(plan.tasks.map((t) => t.agent))].flatMap((a) => this.opts.registry.chain(a)));
    this.events.emit({ type: 'run.started', run_id: this.runId, plan: plan.name, tasks: plan.tasks.length, agents: [...new Set(plan.tasks.map((t) => t.agent))], run_dir: this.runDir });
    const t0 = performance.now();
    this.runningPlan = true;
    // The lock and the header (or, resuming, the run.resumed fact) are durable before any task starts.
    if (this.opts.journal !== false) this.durableRun = await openRun(this, plan, this.opts);
    const resumed = this.durableRun?.resumed;
    await this.start((resumed ? plan.tasks.filter((t) => !resumed.final.has(t.id)) : plan.tasks).map((t) => t.agent));
    if (!this.interruptedBy) {
      if (resumed) this.scheduler.restore(resumed.tasks);
      // Resuming, plan tasks the journal never got (killed right after the header) are added now.
      const added = resumed ? plan.tasks.filter((t) => !this.scheduler.graph.get(t.id)) : plan.tasks;
      if (added.length > 0 || !resumed) this.scheduler.addPlan(added);
    }
    await Promise.race([this.scheduler.done, this.interrupted]);
    if (this.interruptedBy) this.scheduler.settleInterrupted(this.events.now());
    await this.shutdown();
    const status: RunStatus = this.interruptedBy ? 'interrupted' : [...this.scheduler.graph.tasks.values()].every((t) => t.state === 'succeeded' || t.cancelled) ? 'succeeded' : 'failed';
    const duration = Math.round(performance.now() - t0);
    // The report's tasks, resumes and start come from the journal: the record of the whole run.
    const state = this.durableRun ? await closeRun(this, this.durableRun, status, duration) : undefined;
    this.events.emit({ type: 'run.finished', run_id: this.runId, status, duration_ms: duration });
    const report = this.report(plan.name, status, duration, state);
    writeReport(join(this.runDir, 'report.json'), report);
    if (reportFile) writeReport(reportFile, report);
    this.logger?.close();
    return report;
  }

  /**
   * Long-lived use (benchmarks, embedding): after start(), add one task and wait for its final state.
   * Bad tasks reject with an AgentOSError and change nothing.
   */
  async submit(task: NewTask) {
    this.scheduler.addDynamic(task);
    return this.scheduler.whenFinished(task.id);
  }

  /**
   * Stop dispatching and end the run as `interrupted` (SIGINT, SIGTERM, SIGHUP, a fatal error). A second
   * call forces the end: every agent is SIGKILLed at once and the report follows (a second Ctrl-C).
   */
  interrupt(reason: string): void {
    if (this.interruptedBy) {
      if (++this.interrupts === 2) {
        this.events.emit({ type: 'run.forced', signal: reason });
        this.runner.reaper?.killAll();
        this.wakeForced?.();
      }
      return;
    }
    this.interrupts = 1;
    this.interruptedBy = reason;
    this.journal.append({ type: 'run.interrupted', at: Date.now(), by_pid: process.pid, signal: reason });
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
      this.runner.stopSampling();
      this.monitor?.stop();
      // Mailboxes become dead letters, waiting receivers get null, the KV figures at their fullest are kept.
      this.services.close();
      await boundedClose({ close: () => this.runner.close(), reaper: () => this.runner.reaper, events: this.events, boundMs: this.shutdownBoundMs(), forced: this.forced });
      await this.contain.cleanup();
      process.off('uncaughtException', this.onUncaught);
    })();
    return this.shutdownP;
  }

  /** The orderly shutdown's bound: the longest kill grace of the agents in use, plus slack (ms). */
  private shutdownBoundMs(): number {
    let grace = 0;
    for (const pool of this.runner.pools.values()) grace = Math.max(grace, pool.spec.kill_grace_ms);
    return grace + SHUTDOWN_SLACK_MS;
  }

  /** The journal cannot keep the run's record (E_JOURNAL_IO): stop, exit 70 - never go on with a hole. */
  private journalFailed(err: unknown): void {
    this.fatalError ??= err;
    this.interrupt('journal');
  }

  report(plan: string, status: RunStatus, durationMs: number, journal?: RunState): RunReport {
    return buildReport({
      journal,
      runId: this.runId,
      runDir: this.runDir,
      plan,
      status,
      startedAt: this.startedAt,
      durationMs,
      graph: this.scheduler.graph,
      table: this.table,
      runner: this.runner,
      metrics: this.metrics,
      resources: this.monitor ? { samples: this.monitor.samples, decisions: this.monitor.decisions } : undefined,
      containment: this.contain.report(),
      sampler: this.runner.sampler.report(),
      ...this.services.report(),
      incidents: this.incidents.list,
    });
  }
}
