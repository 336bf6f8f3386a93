/**
 * The coordinator of a cluster run (`agentos run --cluster`, `agentos resume --cluster`): today's kernel
 * (scheduler, DAG, retries, backoff, fallback, report) with the ClusterRunner in place of local pools, the
 * journal on Redis fenced by the coordinator lease, and the syscall RPC server answering nodes. It waits
 * for `--min-nodes` nodes; the default concurrency is the cluster's capacity (the nodes' instances summed).
 *
 * Order at start: lease (epoch) → journal → queues and their stalled checkers → syscall server → the
 * announcement (nodes start their workers) → the kernel runs the plan. At the end of a finished run the
 * run is withdrawn and its queues deleted; an interrupted run stays announced for `resume --cluster`.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { ClusterRunner } from '../cluster/cluster-runner.js';
import { bullmqConnection, clusterRedisOptions, connectRedis, type Say } from '../cluster/connect.js';
import { attemptJobId, CLUSTER_FORMAT, clusterKeys, queueName, type ClusterKeys, type RunKeys } from '../cluster/keys.js';
import type { Lease } from '../cluster/lease.js';
import type { ClusterUrl } from '../cluster/redis-url.js';
import { announceRun, endRun, listNodes } from '../cluster/registry.js';
import { RpcServer } from '../cluster/rpc.js';
import { AgentOSError } from '../errors.js';
import type { RunState } from '../journal/replay.js';
import { agentRecords } from '../kernel/durable.js';
import { Kernel, type KernelOptions } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import { runKernel } from './run-kernel.js';

/** Settings every cluster coordinator shares. */
export interface ClusterSettings {
  target: ClusterUrl;
  namespace: string;
  /** Job lock duration (ms). @default 10000 */
  lockMs: number;
  /** Stalled-check period (ms). @default 5000 */
  stallMs: number;
  say: Say;
  signal?: AbortSignal | undefined;
  /** Attach watchers (progress lines) to the kernel once it exists; returns their detach. */
  onKernel?: ((kernel: Kernel) => (() => void) | undefined) | undefined;
}

/** Wait until `min` nodes are live; resolves with the cluster's capacity (instances summed). */
export async function waitForNodes(redis: Redis, keys: ClusterKeys, min: number, s: Pick<ClusterSettings, 'say' | 'signal'>): Promise<number> {
  let said = -1;
  for (;;) {
    if (s.signal?.aborted) throw new AgentOSError('E_SHUTTING_DOWN', 'interrupted while waiting for nodes');
    const { nodes } = await listNodes(redis, keys);
    const live = nodes.filter((n) => !n.record.draining);
    if (live.length >= min) return live.reduce((n, x) => n + x.record.capacity.instances, 0);
    if (live.length !== said) s.say(`agentos: waiting for ${min} node(s) on the cluster (${live.length} live)`);
    said = live.length;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Coordination {
  redis: Redis;
  keys: ClusterKeys;
  runKeys: RunKeys;
  lease: Lease;
  plan: Plan;
  registry: AgentRegistry;
  minNodes: number;
  /** Kernel options besides the runner (journal, resume, concurrency, …). */
  kernel: Omit<KernelOptions, 'attemptRunner'>;
  /** A resumed run: adopt the attempts its dead coordinator left in flight. */
  resumed?: RunState | undefined;
  reportFile?: string | undefined;
}

/** Run the coordinator to its report. Closes what it opened (the Redis client `c.redis` included). */
export async function coordinate(c: Coordination, s: ClusterSettings): Promise<{ report: RunReport; kernel: Kernel }> {
  const connection = clusterRedisOptions(s.target);
  const runner = new ClusterRunner({ connection, redis: c.redis, keys: c.runKeys, epoch: c.lease.epoch, lockMs: s.lockMs, stallMs: s.stallMs, say: s.say });
  const kernel = new Kernel({ ...c.kernel, runId: c.runKeys.runId, attemptRunner: runner });
  const detach = s.onKernel?.(kernel);
  const blocking = connectRedis(s.target, 'coordinator rpc', s.say);
  const rpc = new RpcServer(blocking, c.redis, c.runKeys, kernel.syscalls, (t, a) => runner.inFlight(t, a), s.say);
  const onLost = (err: AgentOSError): void => {
    s.say(`agentos: ${err.message}`);
    kernel.fatalError ??= err;
    kernel.interrupt('lease lost');
  };
  void c.lease.lost.then(onLost);
  let report: RunReport | undefined;
  try {
    const agents = agentRecords(c.registry, c.plan.tasks.map((t) => t.agent));
    for (const a of agents) await runner.open(a.name);
    if (c.resumed) await adoptInFlight(c, runner, connection);
    await rpc.start();
    await announceRun(c.redis, c.keys, { format: CLUSTER_FORMAT, run_id: c.runKeys.runId, plan: c.plan.name, agents, coordinator: { host: hostname(), pid: process.pid }, started_at_ms: Date.now(), min_nodes: c.minNodes, lock_ms: s.lockMs });
    report = await runKernel(kernel, c.plan, { signal: s.signal, reportFile: c.reportFile });
    return { report, kernel };
  } finally {
    detach?.();
    await rpc.stop().catch(() => undefined);
    const over = report !== undefined && report.status !== 'interrupted' && !c.lease.isLost;
    if (over) {
      await endRun(c.redis, c.keys, c.runKeys.runId).catch(() => undefined);
      await runner.obliterate();
    }
    await runner.close();
    await c.lease.release().catch(() => undefined);
    await Promise.all([blocking, c.redis].map((r) => r.quit().catch(() => r.disconnect())));
  }
}

/**
 * A resumed run: every unfinished task's attempt that may still be in Redis (the one in flight per the
 * journal, or the next one, added just before its start fact was written) is adopted, so a job that
 * finished or runs meanwhile is not run again.
 */
async function adoptInFlight(c: Coordination, runner: ClusterRunner, connection: ReturnType<typeof clusterRedisOptions>): Promise<void> {
  const queues = new Map<string, Queue>();
  try {
    const probes: Array<Promise<void>> = [];
    for (const t of c.resumed!.tasks.values()) {
      if (t.status === 'succeeded' || t.status === 'failed' || t.status === 'skipped') continue;
      const attempt = t.inflight?.attempt ?? t.attempts + 1;
      const agent = t.inflight?.agent ?? t.agent;
      let q = queues.get(agent);
      if (!q) queues.set(agent, (q = new Queue(queueName(agent), { connection: bullmqConnection(connection), prefix: c.runKeys.prefix })));
      const jobId = attemptJobId(t.id, attempt);
      probes.push(
        Job.fromId(q, jobId).then((job) => {
          if (job) runner.adopt(t.id, jobId);
        }),
      );
    }
    await Promise.all(probes);
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
  }
}

/** A new run id and its keys. */
export function newRunKeys(keys: ClusterKeys): RunKeys {
  return keys.run(randomBytes(3).toString('hex'));
}

export { clusterKeys };
