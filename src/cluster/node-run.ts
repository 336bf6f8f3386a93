/**
 * One run served by one node: today's local runner (warm pools, quota sampler, reaper, sandbox,
 * containment) for the agents the node hosts, and one BullMQ Worker per hosted agent on the run's queue,
 * `concurrency` = the agent's instances. A job is validated with zod, run on a leased process, and its
 * result returned (`attemptResultSchema`): an agent's failure is a result, a thrown error is the node's
 * trouble.
 *
 * Lock fencing on this side: while a job runs its lock is renewed by BullMQ; when a renewal fails, or
 * no renewal succeeded for the lock duration (Redis unreachable), the coordinator's stalled checker will
 * give the attempt to another node, so this node ends the attempt's process group - an attempt never
 * runs in two places. Syscalls that need the run's state go to the coordinator (./rpc.ts); the bus,
 * the KV-cache page store and `llm.chat` are served here.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { Worker, type Job } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { MessageBus } from '../bus/bus.js';
import { registerBusSyscalls } from '../bus/syscalls.js';
import type { AgentRegistry } from '../config/registry.js';
import type { AgentSpec } from '../config/agent-spec.js';
import { ProcessTable, type Acb } from '../kernel-api/acb.js';
import type { AttemptLease } from '../kernel-api/attempt-runner.js';
import { EventLog } from '../kernel-api/events.js';
import { SyscallTable, type SyscallOp } from '../kernel-api/syscalls.js';
import { KvPageStore } from '../kvcache/store.js';
import { KvOwners, registerKvSyscalls } from '../kvcache/syscalls.js';
import { llmConfigFromEnv, OpenAiChat } from '../llm/openai.js';
import { registerLlmSyscall } from '../llm/syscall.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Containment } from '../process/containment/index.js';
import { LocalRunner } from '../process/local-runner.js';
import { sandboxFlags } from '../process/sandbox.js';
import { RunHandlers } from '../transpile/run-handlers.js';
import { attemptJobSchema, CLUSTER_FORMAT, queueName, type AttemptResult, type ProcessEntry, type RunAnnouncement, type RunKeys } from './keys.js';
import { FORWARDED_OPS, type JobProgress } from './node-protocol.js';
import { RpcClient } from './rpc.js';
import { bullmqConnection } from './connect.js';

/** A run's containment as the node's caller makes it (kernel/run-containment.ts), or none. */
export interface RunCells {
  get(): Containment | undefined;
  cleanup(): Promise<void>;
}

export interface NodeRunOptions {
  nodeId: string;
  announcement: RunAnnouncement;
  keys: RunKeys;
  registry: AgentRegistry;
  /** Agents served in this run, with their instances on this node. */
  hosted: ReadonlyMap<string, number>;
  /** Where this run's logs and work directories go on this node. */
  runDir: string;
  workerDir: string;
  connection: RedisOptions;
  redis: Redis;
  /** A new client for a blocking reader (the syscall replies, the cancel channel). */
  client(role: string): Redis;
  cells?: RunCells | undefined;
  sandbox: boolean;
  sampleMs: number;
  say(line: string): void;
}

interface Running {
  lease: AttemptLease;
  renewedAt: number;
}

export class NodeRun {
  readonly runId: string;
  readonly runner: LocalRunner;
  private readonly events = new EventLog();
  private readonly table = new ProcessTable();
  private readonly syscalls = new SyscallTable();
  private readonly handlers: RunHandlers;
  private readonly workers: Worker[] = [];
  private readonly running = new Map<string, Running>();
  /** Attempts this node ended itself (lock lost, forced drain): handed back, not failed by the agent. */
  private readonly handedBack = new Set<string>();
  private readonly rpc: RpcClient;
  private readonly rpcConn: Redis;
  private readonly cancelConn: Redis;
  private bus: MessageBus | undefined;
  private kv: KvPageStore | undefined;
  private readonly kvOwners = new KvOwners(() => this.kvStore);
  private watchdog: NodeJS.Timeout | undefined;
  private drained: Promise<void> | undefined;
  /** Attempts this node ended because it lost their lock. */
  lockLost = 0;

  constructor(private readonly o: NodeRunOptions) {
    this.runId = o.announcement.run_id;
    this.handlers = new RunHandlers(o.runDir);
    const vars = { PACKAGE: PACKAGE_ROOT.replace(/\/+$/, ''), RUN_DIR: o.runDir, WORK: join(o.runDir, 'work'), OUT: join(o.runDir, 'out'), TARGET: join(o.runDir, 'work'), TMPDIR: tmpdir() };
    for (const d of [join(o.runDir, 'logs'), vars.WORK, vars.OUT]) mkdirSync(d, { recursive: true });
    this.runner = new LocalRunner({
      runId: this.runId,
      workerDir: o.workerDir,
      logDir: join(o.runDir, 'logs'),
      spec: (agent) => this.handlers.spec(this.spec(agent)),
      events: this.events,
      syscalls: this.syscalls,
      table: this.table,
      nodeFlags: (s) => (o.sandbox ? sandboxFlags(s, vars) : []),
      ended: (acb) => this.ended(acb),
      sampleIntervalMs: o.sampleMs,
      reaper: { runDir: o.runDir, events: this.events, socket: () => undefined },
      containment: () => o.cells?.get(),
    });
    this.rpcConn = o.client(`node-rpc-${this.runId}`);
    this.cancelConn = o.client(`node-cancel-${this.runId} (sub)`);
    this.rpc = new RpcClient(this.rpcConn, o.redis, o.keys, o.nodeId, o.say);
    for (const op of FORWARDED_OPS) {
      this.syscalls.register(op as SyscallOp, (caller, args) => this.rpc.call(op, { agent: caller.acb.agent, instance: caller.acb.instance, pid: caller.acb.pid, task: caller.taskId, attempt: caller.attempt }, args));
    }
    registerBusSyscalls(this.syscalls, () => this.messageBus);
    registerKvSyscalls(this.syscalls, () => this.kvStore, this.kvOwners);
    const llm = llmConfigFromEnv();
    registerLlmSyscall(this.syscalls, llm ? new OpenAiChat(llm) : undefined, this.events);
  }

  private spec(agent: string): AgentSpec {
    return this.o.registry.get(agent);
  }

  private get messageBus(): MessageBus {
    this.bus ??= new MessageBus({ events: this.events, agent: (n) => (this.o.hosted.has(n) ? this.spec(n) : undefined), task: () => undefined, live: () => this.table.live() });
    return this.bus;
  }

  private get kvStore(): KvPageStore {
    this.kv ??= new KvPageStore();
    return this.kv;
  }

  private ended(acb: Acb): void {
    this.bus?.processEnded(acb);
    if (this.kv) this.kvOwners.release(acb);
  }

  /** Start the pools, the syscall reply reader, the cancel listener and the workers. */
  async start(): Promise<void> {
    await this.handlers.prepareAll([...this.o.hosted.keys()].map((a) => this.spec(a)));
    await this.runner.start(this.o.hosted.keys());
    await this.rpc.start();
    await this.cancelConn.subscribe(this.o.keys.cancel);
    this.cancelConn.on('message', (_ch: string, jobId: string) => this.running.get(jobId)?.lease.cancel());
    const lockMs = this.o.announcement.lock_ms;
    for (const [agent, instances] of this.o.hosted) {
      const w = new Worker(queueName(agent), (job) => this.process(job), {
        connection: bullmqConnection(this.o.connection),
        prefix: this.o.keys.prefix,
        concurrency: instances,
        lockDuration: lockMs,
        // The coordinator runs the stalled checker (with its settings); nodes only renew their locks.
        skipStalledCheck: true,
        name: this.o.nodeId,
      });
      w.on('error', (err) => this.o.say(`agentos node ${this.o.nodeId}: run ${this.runId} queue ${agent}: ${err.message}`));
      w.on('locksRenewed', ({ jobIds }) => {
        const now = Date.now();
        for (const id of jobIds) {
          const r = this.running.get(id);
          if (r) r.renewedAt = now;
        }
      });
      w.on('lockRenewalFailed', (jobIds) => {
        for (const id of jobIds) this.lost(id, 'its lock renewal was refused');
      });
      this.workers.push(w);
    }
    this.watchdog = setInterval(() => {
      const now = Date.now();
      for (const [id, r] of this.running) if (now - r.renewedAt > lockMs) this.lost(id, `no lock renewal for ${now - r.renewedAt} ms`);
    }, Math.max(50, Math.floor(lockMs / 5)));
    this.watchdog.unref();
  }

  /** This node no longer holds the job's lock: another node gets the attempt, so end it here. */
  private lost(jobId: string, why: string): void {
    const r = this.running.get(jobId);
    if (!r) return;
    this.running.delete(jobId);
    this.handedBack.add(jobId);
    this.lockLost++;
    this.o.say(`agentos node ${this.o.nodeId}: lost the lock of job ${jobId} (${why}); ending its process`);
    r.lease.cancel();
  }

  private async process(job: Job): Promise<AttemptResult> {
    const parsed = attemptJobSchema.safeParse(job.data);
    if (!parsed.success) throw new Error(`invalid attempt job data: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    const j = parsed.data;
    if (j.run_id !== this.runId || !this.o.hosted.has(j.agent)) throw new Error(`job ${job.id} is for run ${j.run_id} agent ${j.agent}, not served here`);
    const lease = await this.runner.acquire(j.agent, { retry: false });
    const jobId = job.id!;
    const t0 = performance.now();
    this.running.set(jobId, { lease, renewedAt: Date.now() });
    try {
      const outcome = await lease.run(
        { taskId: j.task, key: `${this.runId}:${j.task}`, attempt: j.attempt, input: j.input, deps: j.deps, inject: j.inject ?? undefined, timeoutMs: j.timeout_ms, memoryMb: j.memory_mb ?? this.spec(j.agent).memory_mb },
        {
          started: (place) => {
            const p: JobProgress = { node: this.o.nodeId, pid: place.pid, instance: place.instance };
            void job.updateProgress(p).catch(() => undefined);
          },
        },
      );
      // Ended by this node, not by the agent or the coordinator: the job fails as handed back (the
      // coordinator makes it node_lost and runs it again elsewhere), its outcome is not the task's.
      if (this.handedBack.delete(jobId)) throw new Error(`handed back: node ${this.o.nodeId} ended the attempt (lock lost or forced drain)`);
      const acb = this.table.byPid(lease.place.pid);
      return {
        format: CLUSTER_FORMAT,
        run_id: this.runId,
        task: j.task,
        attempt: j.attempt,
        node: this.o.nodeId,
        pid: lease.place.pid,
        instance: lease.place.instance,
        peak_rss_mb: acb?.peak_rss_mb ?? 0,
        duration_ms: Math.round(performance.now() - t0),
        outcome: outcome.ok ? { ok: true, output: outcome.output } : { ok: false, kind: outcome.kind, message: outcome.message },
      };
    } finally {
      this.running.delete(jobId);
      lease.release();
    }
  }

  /** Agent processes of this run, for the heartbeat's process table. */
  processes(): ProcessEntry[] {
    return this.runner.processes().map((p) => ({ run: this.runId, agent: p.acb.agent, instance: p.acb.instance, pid: p.acb.pid, state: p.acb.state, rss_mb: p.acb.rss_mb, task: p.acb.task }));
  }

  /** Attempts running now. */
  get busy(): number {
    return this.running.size;
  }

  /** End the running attempts now and hand their jobs back (they run again elsewhere as node_lost). */
  abandon(): void {
    for (const [id, r] of this.running) {
      this.handedBack.add(id);
      r.lease.cancel();
    }
  }

  /**
   * Stop taking jobs, let the running ones finish (`force`: end them now; their jobs stall and run
   * elsewhere), then end every process of the run. Idempotent.
   */
  drain(force = false): Promise<void> {
    this.drained ??= (async () => {
      if (force) this.abandon();
      // Redis may be gone (it is stopped too, or cut off): every step that needs it is bounded, so the
      // node still ends its processes. Running attempts are waited for (the lock watchdog ends those that
      // lost their lock), then the workers get a lock duration to report and close.
      const closing = Promise.all(this.workers.map((w) => w.close(force).catch(() => undefined)));
      await until(() => this.running.size === 0, closing);
      await bounded(closing, this.o.announcement.lock_ms);
      for (const w of this.workers) void w.disconnect().catch(() => undefined);
      if (this.watchdog) clearInterval(this.watchdog);
      await bounded(this.rpc.stop(), 2000);
      this.bus?.close();
      await this.runner.close();
      await this.o.cells?.cleanup();
      for (const c of [this.rpcConn, this.cancelConn]) c.disconnect();
    })();
    return this.drained;
  }
}

/** Resolves with `p`, or after `ms` (the step is abandoned: its connection is closed later). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}

/** Resolves once `cond` holds (checked every 50 ms) or `done` settles. */
function until(cond: () => boolean, done: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => cond() && finish(), 50);
    const finish = (): void => {
      clearInterval(t);
      resolve();
    };
    void done.finally(finish);
    if (cond()) finish();
  });
}
