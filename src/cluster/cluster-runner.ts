/**
 * The coordinator's AttemptRunner: one BullMQ job per attempt on the run's queue of the agent
 * (`{aos:R}:agent.<name>`, job id `<task>.<attempt>`), run by whichever node takes it (./node-run.ts).
 *
 * - `acquire` hands out a lease at once: the scheduler's global concurrency (the cluster's capacity)
 *   is the cap; a job waits in its queue until a node's worker has a free instance.
 * - `run` adds the job (`attempts: 1`: retries and fallbacks stay the scheduler's) and resolves with the
 *   first of its `completed` / `failed` events (QueueEvents), or what a periodic look at the job says
 *   (an event lost while Redis restarted). Exactly one result per attempt is taken; any later report of
 *   that attempt is refused (`refused` counts them). BullMQ itself refuses a completion whose lock token
 *   is stale, so a cut-off node's late result never lands.
 * - Stalled jobs: the coordinator runs BullMQ's stalled checker for its queues (a processor-less Worker,
 *   `maxStalledCount: 0`): a job whose lock was not renewed for `lockMs` is failed at the next check
 *   (every `stallMs`), and that failure becomes kind `node_lost` naming the node (the scheduler runs the
 *   task again without counting it).
 * - Takeover: `adopt(task, jobId)` makes the next attempt of a task wait for the job a dead coordinator
 *   left in flight instead of adding a new one (finished meanwhile: its result is used at once).
 */
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { AgentOSError } from '../errors.js';
import type { AcquireOptions, AttemptHooks, AttemptLease, AttemptOutcome, AttemptPlace, AttemptRunner, AttemptSpec } from '../kernel-api/attempt-runner.js';
import { attemptJobId, attemptResultSchema, CLUSTER_FORMAT, queueName, type AttemptJob, type RunKeys } from './keys.js';
import { jobProgressSchema } from './node-protocol.js';
import { bullmqConnection } from './connect.js';

export interface ClusterRunnerOptions {
  /** Options of the BullMQ connections (each queue, its events and its stalled checker get their own). */
  connection: RedisOptions;
  /** A command client of the coordinator (cancel publishes). */
  redis: Redis;
  keys: RunKeys;
  /** The coordinator's lease epoch, stamped on every job. */
  epoch: number;
  /** Job lock duration nodes use (ms). @default 10000 */
  lockMs?: number;
  /** Stalled-check period (ms). @default 5000 */
  stallMs?: number;
  /** Look at jobs in flight this often (ms), in case an event was lost. @default 2000 */
  pollMs?: number;
  /** Infrastructure trouble worth saying (Redis errors of BullMQ's clients). */
  say?: (line: string) => void;
}

interface Waiter {
  jobId: string;
  task: string;
  attempt: number;
  agent: string;
  hooks: AttemptHooks;
  lease: ClusterLease;
  resolve: (o: AttemptOutcome) => void;
  started: boolean;
  node: string | null;
}

interface AgentQueue {
  queue: Queue;
  events: QueueEvents;
  checker: Worker;
}

export class ClusterRunner implements AttemptRunner {
  private readonly queues = new Map<string, AgentQueue>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly adopted = new Map<string, string>();
  private closed = false;
  private readonly poll: NodeJS.Timeout;
  readonly lockMs: number;
  readonly stallMs: number;
  /** Results and failures refused: a second report of an attempt already settled. */
  refused = 0;

  constructor(private readonly o: ClusterRunnerOptions) {
    this.lockMs = o.lockMs ?? 10_000;
    this.stallMs = o.stallMs ?? 5_000;
    this.poll = setInterval(() => void this.check(), o.pollMs ?? 2000);
    this.poll.unref();
  }

  acquire(agent: string, _opts: AcquireOptions): Promise<AttemptLease> {
    if (this.closed) return Promise.reject(new AgentOSError('E_SHUTTING_DOWN', 'the cluster runner is closing'));
    return this.open(agent).then(() => new ClusterLease(this, agent));
  }

  /** Make the queue of an agent ready (queue, its events, its stalled checker) before the first job. */
  async open(agent: string): Promise<void> {
    if (this.queues.has(agent)) return;
    const name = queueName(agent);
    const base = { connection: bullmqConnection(this.o.connection), prefix: this.o.keys.prefix };
    const events = new QueueEvents(name, { ...base, autorun: true });
    const queue = new Queue(name, base);
    // A Worker without a processor runs only the stalled checker (BullMQ's "manual fetching" pattern).
    const checker = new Worker(name, null, { ...base, autorun: false, maxStalledCount: 0, stalledInterval: this.stallMs, lockDuration: this.lockMs, name: 'coordinator' });
    const q = { queue, events, checker };
    this.queues.set(agent, q);
    const onError = (err: Error): void => this.o.say?.(`agentos coordinator: queue ${name}: ${err.message}`);
    queue.on('error', onError);
    events.on('error', onError);
    checker.on('error', onError);
    events.on('progress', ({ jobId, data }) => this.progress(jobId, data));
    events.on('completed', ({ jobId, returnvalue }) => this.completed(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => void this.failed(jobId, failedReason));
    await events.waitUntilReady();
    await checker.startStalledCheckTimer();
  }

  /** The attempt is in flight here (a node's syscalls are only answered for those). */
  inFlight(task: string, attempt: number): boolean {
    return this.waiters.has(attemptJobId(task, attempt));
  }

  /** After a takeover: the next attempt of `task` waits for this job instead of adding one. */
  adopt(task: string, jobId: string): void {
    this.adopted.set(task, jobId);
  }

  /** Called by a lease: add the job (or adopt one) and wait for its one result. */
  async start(lease: ClusterLease, a: AttemptSpec, hooks: AttemptHooks): Promise<AttemptOutcome> {
    const q = this.queues.get(lease.agent)!;
    const adoptedId = this.adopted.get(a.taskId);
    this.adopted.delete(a.taskId);
    const jobId = adoptedId ?? attemptJobId(a.taskId, a.attempt);
    const attempt = adoptedId ? Number(adoptedId.slice(adoptedId.lastIndexOf('.') + 1)) : a.attempt;
    lease.jobId = jobId;
    const done = new Promise<AttemptOutcome>((resolve) => {
      this.waiters.set(jobId, { jobId, task: a.taskId, attempt, agent: lease.agent, hooks, lease, resolve, started: false, node: null });
    });
    // Started from the scheduler's view once queued: the journal then knows the job before a node runs
    // it, so a coordinator taking over finds it (the node's progress report fills in pid and instance).
    this.markStarted(this.waiters.get(jobId)!, lease.place);
    try {
      if (adoptedId) {
        await this.checkOne(jobId);
      } else {
        const data: AttemptJob = { format: CLUSTER_FORMAT, run_id: this.o.keys.runId, epoch: this.o.epoch, task: a.taskId, attempt: a.attempt, agent: lease.agent, input: a.input, deps: a.deps, inject: a.inject ?? null, timeout_ms: a.timeoutMs, memory_mb: a.memoryMb };
        // Kept after completion: a coordinator taking over finds the result by the job id.
        await q.queue.add(lease.agent, data, { jobId, attempts: 1, removeOnComplete: false, removeOnFail: false });
      }
    } catch (err) {
      this.settle(jobId, { ok: false, kind: 'crash', message: `could not queue the attempt in Redis: ${(err as Error).message}` });
    }
    return done;
  }

  /** Cancel an attempt: the node running it ends its process group; a job not yet taken is removed. */
  cancel(jobId: string): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    this.settle(jobId, { ok: false, kind: 'cancelled', message: 'the task was cancelled' });
    void this.o.redis.publish(this.o.keys.cancel, jobId).catch(() => undefined);
    void this.queues.get(w.agent)?.queue.remove(jobId).catch(() => undefined);
  }

  private progress(jobId: string, data: unknown): void {
    const w = this.waiters.get(jobId);
    const p = jobProgressSchema.safeParse(data);
    if (!w || !p.success) return;
    w.node = p.data.node;
    this.markStarted(w, { agent: w.agent, instance: p.data.instance, pid: p.data.pid });
  }

  private markStarted(w: Waiter, place: AttemptPlace): void {
    w.lease.place = place;
    if (w.started) return;
    w.started = true;
    w.hooks.started(place);
  }

  private completed(jobId: string, raw: unknown): void {
    const w = this.waiters.get(jobId);
    if (!w) return void (this.refused += jobId.includes('.') ? 1 : 0);
    let value = raw;
    if (typeof raw === 'string') {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    const r = attemptResultSchema.safeParse(value);
    if (!r.success || r.data.task !== w.task || r.data.attempt !== w.attempt || r.data.run_id !== this.o.keys.runId) {
      this.settle(jobId, { ok: false, kind: 'protocol', message: `node ${w.node ?? '?'} returned an invalid result for ${jobId}: ${r.success ? 'another attempt' : r.error.issues[0]!.message}` });
      return;
    }
    w.node = r.data.node;
    this.markStarted(w, { agent: w.agent, instance: r.data.instance, pid: r.data.pid });
    const out = r.data.outcome;
    this.settle(jobId, out.ok ? { ok: true, output: out.output } : { ok: false, kind: out.kind, message: out.message });
  }

  private async failed(jobId: string, reason: string): Promise<void> {
    const w = this.waiters.get(jobId);
    if (!w) return;
    if (/^handed back/.test(reason)) {
      this.settle(jobId, { ok: false, kind: 'node_lost', message: `node ${w.node ?? (await this.processedBy(w)) ?? 'unknown'} lost: ${reason}; runs again elsewhere` });
      return;
    }
    if (/stalled/i.test(reason)) {
      const node = w.node ?? (await this.processedBy(w)) ?? 'unknown';
      this.settle(jobId, { ok: false, kind: 'node_lost', message: `node ${node} lost: the attempt's job lock was not renewed for ${this.lockMs} ms (node dead or cut off from Redis); runs again elsewhere` });
      return;
    }
    this.settle(jobId, { ok: false, kind: 'crash', message: `node ${w.node ?? '?'}: the attempt's job failed: ${reason}` });
  }

  private async processedBy(w: Waiter): Promise<string | undefined> {
    const q = this.queues.get(w.agent);
    const job = q ? await Job.fromId(q.queue, w.jobId).catch(() => undefined) : undefined;
    return job?.processedBy ?? undefined;
  }

  private settle(jobId: string, outcome: AttemptOutcome): void {
    const w = this.waiters.get(jobId);
    if (!w) return;
    this.waiters.delete(jobId);
    if (!w.started) this.markStarted(w, w.lease.place);
    w.resolve(outcome);
  }

  /** Look at every job in flight (events can be lost across a Redis restart). */
  private async check(): Promise<void> {
    for (const id of [...this.waiters.keys()]) await this.checkOne(id).catch(() => undefined);
  }

  private async checkOne(jobId: string): Promise<void> {
    const w = this.waiters.get(jobId);
    const q = w && this.queues.get(w.agent);
    if (!w || !q) return;
    // The state first, then the job: a job read before its completion would carry no return value yet.
    const state = await q.queue.getJobState(jobId);
    if (state === 'unknown') {
      // Gone (an adopted job never added, or Redis lost it): the node is as good as lost.
      if (this.waiters.get(jobId) === w) this.settle(jobId, { ok: false, kind: 'node_lost', message: `job ${jobId} is not in Redis any more; runs again` });
      return;
    }
    const job = await Job.fromId(q.queue, jobId);
    if (!job || this.waiters.get(jobId) !== w) return;
    if (state === 'completed') this.completed(jobId, job.returnvalue);
    else if (state === 'failed') await this.failed(jobId, job.failedReason ?? 'failed');
    else if (job.progress && typeof job.progress === 'object') this.progress(jobId, job.progress);
  }

  /** Stop: attempts still waiting resolve as cancelled (their jobs stay for a successor); clients closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    for (const id of [...this.waiters.keys()]) this.settle(id, { ok: false, kind: 'cancelled', message: 'the coordinator stopped' });
    await Promise.all([...this.queues.values()].flatMap((q) => [q.checker.close(), q.events.close(), q.queue.close()]).map((p) => p.catch(() => undefined)));
  }

  /** Delete every queue of the run (its jobs and their results): the run is over. */
  async obliterate(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.queue.obliterate({ force: true }).catch(() => undefined)));
  }
}

class ClusterLease implements AttemptLease {
  place: AttemptPlace;
  /** The job of the attempt in flight (set by the runner: an adopted job keeps its own id). */
  jobId: string | null = null;

  constructor(
    private readonly runner: ClusterRunner,
    readonly agent: string,
  ) {
    // pid 0 until a node says which process took the attempt.
    this.place = { agent, instance: 0, pid: 0 };
  }

  run(a: AttemptSpec, hooks: AttemptHooks): Promise<AttemptOutcome> {
    return this.runner.start(this, a, hooks);
  }

  cancel(): void {
    if (this.jobId) this.runner.cancel(this.jobId);
  }

  release(): void {
    // Capacity lives on the nodes: a worker takes the next job when its instance is free.
  }
}
