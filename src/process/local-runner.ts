/**
 * The local AttemptRunner: one pool of warm processes per agent on this machine, the quota sampler over
 * them, and the reaper that ends them all if the kernel dies. A lease is one idle process reserved for
 * one attempt; `run` sends it the task and resolves with the outcome; `release` hands the process back.
 */
import { join } from 'node:path';
import type { AgentSpec } from '../config/agent-spec.js';
import { DEFAULTS } from '../config/defaults.js';
import { setQuota, type Acb, type ProcessTable } from '../kernel-api/acb.js';
import type { AcquireOptions, AttemptHooks, AttemptLease, AttemptOutcome, AttemptPlace, AttemptRunner, AttemptSpec } from '../kernel-api/attempt-runner.js';
import type { EventLog } from '../kernel-api/events.js';
import type { SyscallTable } from '../kernel-api/syscalls.js';
import { BRAND } from '../protocol/messages.js';
import { AgentPool } from './agent-pool.js';
import type { AgentProcess } from './agent-process.js';
import type { Containment } from './containment/index.js';
import { QuotaSampler } from './quota-sampler.js';
import { SpawnGate } from './spawn-gate.js';
import { Reaper, type ReaperOptions } from './reaper.js';

export interface LocalRunnerOptions {
  runId: string;
  /** Directory of worker/host.js and worker/reaper.js. */
  workerDir: string;
  /** Where each process's log goes. */
  logDir: string;
  /** The agent spec by name (throws AgentOSError E_UNKNOWN_AGENT). */
  spec(agent: string): AgentSpec;
  events: EventLog;
  syscalls: SyscallTable;
  table: ProcessTable;
  /** Extra node flags per agent (the sandbox's permission model). */
  nodeFlags(spec: AgentSpec): string[];
  /** A process ended: kernel parts free what it held. */
  ended(acb: Acb): void;
  /** Quota sampler period (ms). */
  sampleIntervalMs: number;
  /** The reaper's run directory, events and control socket (reaper.ts). */
  reaper?: ReaperOptions;
  /** The run's containment (made on first use); undefined: process groups only. */
  containment?: () => Containment | undefined;
  /** Agent processes starting at once, across every agent (spawn-gate.ts). @default DEFAULTS.spawnConcurrency */
  spawnConcurrency?: number;
}

export class LocalRunner implements AttemptRunner {
  private readonly byAgent = new Map<string, AgentPool>();
  private reaperP: Reaper | undefined;
  private requestSeq = 0;
  readonly sampler: QuotaSampler;
  private readonly gate: SpawnGate;

  constructor(private readonly o: LocalRunnerOptions) {
    this.sampler = new QuotaSampler(() => this.processes(), o.events, o.sampleIntervalMs);
    this.gate = new SpawnGate(o.spawnConcurrency ?? DEFAULTS.spawnConcurrency);
  }

  acquire(agent: string, opts: AcquireOptions): Promise<AttemptLease> {
    const pool = this.pool(agent);
    return pool.acquire(opts).then((proc) => new LocalLease(this, pool, proc));
  }

  /** Start the pools of these agents; resolves once every process is ready or failed. */
  async start(agents: Iterable<string>): Promise<void> {
    await Promise.all([...agents].map((n) => this.pool(n).start()));
    this.sampler.start();
  }

  /** The pool of an agent, made (and its processes started) on first use. */
  pool(agent: string): AgentPool {
    let pool = this.byAgent.get(agent);
    if (!pool) {
      const spec = this.o.spec(agent);
      const reaper = this.ensureReaper();
      const containment = this.o.containment?.();
      pool = new AgentPool(
        spec,
        {
          runId: this.o.runId,
          workerPath: join(this.o.workerDir, 'host.js'),
          events: this.o.events,
          logDir: this.o.logDir,
          syscalls: this.o.syscalls,
          nodeFlags: (s) => this.o.nodeFlags(s),
          ended: (acb) => this.o.ended(acb),
          track: (pgid, start) => reaper.track(pgid, start),
          untrack: (pgid) => reaper.untrack(pgid),
          ...(containment ? { cell: (a: string, i: number) => containment.cell(a, i) } : {}),
        },
        this.o.table,
        this.gate,
      );
      this.byAgent.set(agent, pool);
      void pool.start();
    }
    return pool;
  }

  /** The reaper, started with the first pool; it also ends the run's cgroups if the kernel dies. */
  private ensureReaper(): Reaper {
    if (this.reaperP) return this.reaperP;
    const r = new Reaper(this.o.workerDir, this.o.runId, this.o.reaper);
    const dirs = this.o.containment?.()?.runDirs;
    for (const d of dirs ? [dirs.v2, dirs.freezer, dirs.memory, dirs.pids] : []) if (d) r.trackCgroup(d);
    this.reaperP = r;
    return r;
  }

  /** Every pool made so far, by agent name. */
  get pools(): ReadonlyMap<string, AgentPool> {
    return this.byAgent;
  }

  /** Live processes of every pool (for the quota sampler). */
  processes(): AgentProcess[] {
    const out: AgentProcess[] = [];
    for (const pool of this.byAgent.values()) out.push(...pool.processes());
    return out;
  }

  /** The reaper, once the first pool made it. */
  get reaper(): Reaper | undefined {
    return this.reaperP;
  }

  get reaperPid(): number | null {
    return this.reaperP?.pid ?? null;
  }

  /** Stop the sampler (first: no more kills). */
  stopSampling(): void {
    this.sampler.stop();
  }

  /** End every process and the reaper; resolves when all are gone. */
  async close(): Promise<void> {
    this.sampler.stop();
    await Promise.all([...this.byAgent.values()].map((p) => p.close()));
    await this.reaperP?.close();
  }

  get runId(): string {
    return this.o.runId;
  }

  nextRequestId(): string {
    return `r${++this.requestSeq}`;
  }
}

class LocalLease implements AttemptLease {
  readonly place: AttemptPlace;
  private released = false;

  constructor(
    private readonly runner: LocalRunner,
    private readonly pool: AgentPool,
    private readonly proc: AgentProcess,
  ) {
    this.place = { agent: proc.spec.name, instance: proc.acb.instance, pid: proc.pid };
  }

  async run(a: AttemptSpec, hooks: AttemptHooks): Promise<AttemptOutcome> {
    const key = a.key;
    const msg = { ag: BRAND, type: 'task', requestId: this.runner.nextRequestId(), taskId: a.taskId, attempt: a.attempt, key, input: a.input, deps: a.deps, inject: a.inject } as const;
    hooks.started(this.place);
    // A task may ask for a tighter memory quota than its agent's; the sampler reads it from the ACB.
    setQuota(this.proc.acb, a.memoryMb);
    const outcome = await this.proc.run(msg, a.timeoutMs);
    setQuota(this.proc.acb, this.proc.spec.memory_mb);
    return outcome;
  }

  cancel(): void {
    this.proc.terminate('cancelled');
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this.proc);
  }
}
