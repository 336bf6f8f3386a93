/**
 * Cluster runs from start to report: `runOnCluster` (agentos run --cluster) and `resumeOnCluster`
 * (agentos resume --cluster: take the lease with a new epoch, replay the journal from Redis, adopt the
 * attempts in flight, go on). Refusals are InputErrors (exit 2) as for a local resume.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connectRedis } from '../cluster/connect.js';
import { clusterKeys } from '../cluster/keys.js';
import { acquireLease } from '../cluster/lease.js';
import { RedisJournal } from '../cluster/redis-journal.js';
import { AgentOSError, InputError } from '../errors.js';
import { completeness } from '../journal/completeness.js';
import { replay } from '../journal/replay.js';
import { acquireRunLock } from '../journal/run-lock.js';
import { agentDirsOf } from '../kernel/durable.js';
import type { Kernel } from '../kernel/kernel.js';
import type { RunReport } from '../observe/report.js';
import type { Injection } from '../scheduler/scheduler.js';
import { coordinate, newRunKeys, waitForNodes, type ClusterSettings } from './cluster-run.js';
import { loadAgents, prepareRun } from './prepare.js';
import { changedSince, resumedPlan } from './resume.js';

export interface ClusterRunOptions {
  plan: string;
  agents: readonly string[];
  runsDir: string;
  /** undefined: the cluster's capacity. */
  concurrency?: number | undefined;
  minNodes: number;
  injections: readonly Injection[];
  reportFile?: string | undefined;
  sampleMs?: number | undefined;
}

/** Result of a coordinator: the report and the kernel (for its fatal error). */
export interface ClusterOutcome {
  report: RunReport;
  kernel: Kernel;
}

/** Run a plan on the cluster. Throws InputError for bad input (before anything is written to Redis). */
export async function runOnCluster(o: ClusterRunOptions, s: ClusterSettings): Promise<ClusterOutcome> {
  const { registry, plan } = prepareRun({ plan: o.plan, agents: o.agents, injections: o.injections });
  const redis = connectRedis(s.target, 'coordinator', s.say);
  try {
    const keys = clusterKeys(s.namespace);
    const capacity = await waitForNodes(redis, keys, o.minNodes, s);
    const runKeys = newRunKeys(keys);
    const lease = await acquireLease(redis, runKeys);
    const concurrency = o.concurrency ?? Math.max(1, capacity);
    s.say(`agentos: run ${runKeys.runId} on the cluster (${describe(s)}), concurrency ${concurrency}, epoch ${lease.epoch}`);
    return await coordinate(
      {
        redis,
        keys,
        runKeys,
        lease,
        plan,
        registry,
        minNodes: o.minNodes,
        reportFile: o.reportFile,
        kernel: {
          registry,
          runsDir: resolve(o.runsDir),
          concurrency,
          injections: o.injections,
          ...(o.sampleMs ? { sampleIntervalMs: o.sampleMs } : {}),
          journal: { planFile: resolve(o.plan), options: { injections: [...o.injections] } },
          createJournal: () => RedisJournal.create(redis, runKeys, { fenceEpoch: lease.epoch }),
        },
      },
      s,
    );
  } catch (err) {
    await redis.quit().catch(() => redis.disconnect());
    throw err;
  }
}

export interface ClusterResumeOptions {
  runId: string;
  agents: readonly string[];
  runsDir: string;
  allowChanged: boolean;
  concurrency?: number | undefined;
  reportFile?: string | undefined;
  /** How long to wait for a dead coordinator's lease to expire (ms). @default 15000 */
  leaseWaitMs?: number;
}

/** Take over a cluster run whose coordinator died. Throws InputError: E_RUN_COMPLETE, E_RUN_CHANGED, E_LEASE_HELD, E_JOURNAL_IO. */
export async function resumeOnCluster(o: ClusterResumeOptions, s: ClusterSettings): Promise<ClusterOutcome & { changed: string[] }> {
  const redis = connectRedis(s.target, 'coordinator', s.say);
  const keys = clusterKeys(s.namespace);
  let runKeys;
  try {
    runKeys = keys.run(o.runId);
  } catch (err) {
    await redis.quit().catch(() => redis.disconnect());
    throw err;
  }
  let lease;
  try {
    lease = await acquireLease(redis, runKeys, { waitMs: o.leaseWaitMs ?? 15_000 });
  } catch (err) {
    await redis.quit().catch(() => redis.disconnect());
    throw asInput(err);
  }
  try {
    const { journal, facts } = await RedisJournal.open(redis, runKeys, { fenceEpoch: lease.epoch });
    const state = replay(facts);
    const verdict = completeness(state);
    if (verdict.complete && state.finished !== null) throw new InputError('E_RUN_COMPLETE', `run ${o.runId}: complete (status ${state.finished.status}); nothing to resume.`);
    const registry = loadAgents(o.agents.length > 0 ? o.agents : agentDirsOf(state.header.agents));
    const changed = changedSince(state.header, registry);
    if (changed.length > 0 && !o.allowChanged) throw new InputError('E_RUN_CHANGED', `run ${o.runId}: changed since it started: ${changed.join('; ')}. Fix: restore those files, or pass --allow-changed.`);
    const runsDir = resolve(o.runsDir);
    mkdirSync(join(runsDir, o.runId), { recursive: true });
    const lock = acquireRunLock(join(runsDir, o.runId));
    const plan = resumedPlan(state);
    const done = [...state.tasks.values()].filter((t) => t.status === 'succeeded').length;
    s.say(`agentos resume: run ${o.runId} on the cluster (${describe(s)}): ${done} of ${state.tasks.size} task(s) succeeded before; taking over with epoch ${lease.epoch}`);
    const out = await coordinate(
      {
        redis,
        keys,
        runKeys,
        lease,
        plan,
        registry,
        minNodes: 1,
        resumed: state,
        reportFile: o.reportFile,
        kernel: {
          registry,
          runsDir,
          concurrency: o.concurrency ?? state.header.options.concurrency,
          injections: state.header.options.injections.map((i) => ({ agent: i.agent, fault: i.fault, attempt: i.attempt })),
          resume: { journal, lock, facts },
        },
      },
      s,
    );
    return { ...out, changed };
  } catch (err) {
    await lease.release().catch(() => undefined);
    if (redis.status !== 'end') await redis.quit().catch(() => redis.disconnect());
    throw asInput(err);
  }
}

function describe(s: ClusterSettings): string {
  return `${s.target.tls ? 'rediss' : 'redis'}://${s.target.host}:${s.target.port}`;
}

function asInput(err: unknown): unknown {
  if (err instanceof AgentOSError && !(err instanceof InputError) && ['E_LEASE_HELD', 'E_JOURNAL_IO', 'E_JOURNAL_CORRUPT', 'E_RUN_LOCKED'].includes(err.code)) return new InputError(err.code, err.message, { cause: err });
  return err;
}
