/**
 * Every Redis key of an AgentOS cluster, in one place, and the zod schema of every payload stored there.
 *
 * Hash tags: Redis Cluster puts keys in the same slot when the text inside their first `{…}` is equal,
 * and a Lua script or MULTI may only touch keys of one slot. So
 *   - every key of run R starts with `{aos:R}` (its journal, epoch, lease, BullMQ queues, bus, memory),
 *     so a fenced write (check the epoch, then append) is one atomic script;
 *   - the cluster-wide keys (node records, their index, the run table) start with `{aos}`, so the index
 *     and the records can be read together.
 * `aos` is the namespace: one Redis can hold several clusters with different namespaces.
 *
 * Payloads are JSON strings validated on read (`parseRecord`): Redis is a boundary, like a file.
 */
import { z } from 'zod';
import { AgentOSError } from '../errors.js';
import { agentRecordSchema } from '../journal/facts.js';
import { FAILURE_KINDS, FAULTS } from '../protocol/messages.js';

/** Bumped when a payload changes meaning; a reader refuses a newer one. */
export const CLUSTER_FORMAT = 1 as const;

/** Node ids and namespaces: what can sit inside a key and a hash tag (no `{`, `}`, `:`, spaces). */
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, _ . - (starting with a letter or digit)');
export const namespaceSchema = nodeIdSchema;
/** Run ids: the kernel makes 6 hex digits; anything key-safe is accepted. */
export const runIdSchema = nodeIdSchema;

/** Keys of one cluster namespace. Functions validate their arguments: a `}` in an id would move the hash tag. */
export function clusterKeys(namespace = 'aos') {
  const ns = check(namespaceSchema, namespace, 'namespace');
  const g = `{${ns}}`;
  return {
    namespace: ns,
    /** ZSET: member node id, score the Redis time (ms) of its last heartbeat. The index of live nodes. */
    nodes: `${g}:nodes`,
    /** STRING (JSON `NodeRecord`), PX = heartbeat TTL: present while the node lives. */
    node: (id: string) => `${g}:node:${check(nodeIdSchema, id, 'node id')}`,
    /** HASH: field run id, value JSON `RunAnnouncement`. Runs in progress. */
    runs: `${g}:runs`,
    /** Pub/sub channel: a run id, published when a run is announced (nodes then read `runs`). */
    runsChannel: `${g}:runs:announced`,
    /** The keys of one run. */
    run: (runId: string) => runKeys(ns, check(runIdSchema, runId, 'run id')),
  };
}
export type ClusterKeys = ReturnType<typeof clusterKeys>;

function runKeys(ns: string, runId: string) {
  const r = `{${ns}:${runId}}`;
  return {
    runId,
    /** The hash-tagged prefix itself: BullMQ's `prefix` option, so its queue keys share the run's slot. */
    prefix: r,
    /** STRING (JSON `LeaseRecord`), PX = lease TTL: the coordinator holding the run. */
    lease: `${r}:lease`,
    /** STRING integer: the fencing epoch, INCR on every lease acquisition; writes check it. */
    epoch: `${r}:epoch`,
    /** STREAM: the run journal, entry id `0-(seq+1)`, field `f` the fact's JSON. */
    journal: `${r}:journal`,
    /** HASH: task id → JSON task state (planned). */
    tasks: `${r}:tasks`,
    /** STREAM: kernel events, each with its node (planned). */
    events: `${r}:events`,
    /** Pub/sub channel: job id of an attempt to end (its task was cancelled or the run interrupted). */
    cancel: `${r}:cancel`,
    /** HASH: bus slot `agent#n@node` → node id (planned). */
    slots: `${r}:slots`,
    /** HASH: agent → instances free per node, for circuit breakers (planned). */
    capacity: `${r}:capacity`,
    /** STREAM: syscalls that need run state (task.*, memory.*), node → coordinator (rpc.ts). */
    rpc: `${r}:rpc`,
    /** STREAM: the coordinator's replies to one node's syscalls. */
    rpcReply: (node: string) => `${r}:rpc:reply:${check(nodeIdSchema, node, 'node id')}`,
    /** STREAM: bus messages for one node (planned). */
    inbox: (node: string) => `${r}:inbox:${check(nodeIdSchema, node, 'node id')}`,
    /** LIST: mail addressed to a task, following it across retries (planned). */
    taskQueue: (task: string) => `${r}:tq:${task}`,
    /** STRING: one blackboard key (planned). */
    memory: (key: string) => `${r}:mem:${key}`,
    /** HASH: task-local memory (planned). */
    local: (task: string) => `${r}:local:${task}`,
  };
}
export type RunKeys = ReturnType<typeof runKeys>;

/** The BullMQ queue of an agent within a run (queue keys are `<prefix>:<queue>:…`). */
export function queueName(agent: string): string {
  return `agent.${agent}`;
}

/**
 * The BullMQ job id of an attempt, `<task>.<attempt>`: deterministic, so a new coordinator finds the
 * job again. BullMQ refuses `:` in custom ids and task ids may hold it, so `%` and `:` are escaped.
 */
export function attemptJobId(task: string, attempt: number): string {
  return `${task.replace(/%/g, '%25').replace(/:/g, '%3A')}.${attempt}`;
}

function check<T extends string>(schema: z.ZodType<T>, value: string, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AgentOSError('E_USAGE', `${what} '${value}': ${r.error.issues[0]!.message}.`);
  return r.data;
}

// ---- payloads ---------------------------------------------------------------------------------

const nonNeg = z.number().int().min(0);
const pid = z.number().int().min(0);
const mb = z.number().min(0);
const agentName = z.string().min(1).max(64);
const taskId = z.string().min(1).max(128);

/** One agent process on a node, as `agentos ps --cluster` shows it (the fields of today's ps). */
export const processEntrySchema = z
  .object({
    run: runIdSchema.nullable(),
    agent: agentName,
    instance: nonNeg,
    pid,
    state: z.enum(['starting', 'idle', 'busy', 'stopping', 'exited', 'crashed']),
    rss_mb: mb,
    /** The task it runs now. */
    task: taskId.nullable(),
  })
  .strict();
export type ProcessEntry = z.output<typeof processEntrySchema>;

/** What a node publishes with each heartbeat, under `{aos}:node:<id>`. */
export const nodeRecordSchema = z
  .object({
    format: z.literal(CLUSTER_FORMAT),
    id: nodeIdSchema,
    /** Random per process: tells a restarted node from its predecessor, and two nodes given one id apart. */
    token: z.string().min(8).max(64),
    host: z.string().min(1).max(253),
    pid,
    /** Wall clock (epoch ms) of the node's start, for display. */
    started_at_ms: nonNeg,
    /** Agents hosted: instances per agent on this node and each instance's memory quota. */
    agents: z.array(z.object({ name: agentName, instances: z.number().int().min(1), memory_mb: z.number().int().positive().nullable() }).strict()),
    capacity: z.object({ instances: nonNeg, capacity_mb: z.number().int().positive().nullable() }).strict(),
    load: z.object({ busy: nonNeg, loadavg_1m: z.number().min(0), rss_mb: mb }).strict(),
    /** Stops taking work (SIGTERM, Redis trouble) and finishes what it runs. */
    draining: z.boolean(),
    processes: z.array(processEntrySchema).max(10_000),
  })
  .strict();
export type NodeRecord = z.output<typeof nodeRecordSchema>;

/** A run in progress, in `{aos}:runs`: what a node needs to serve it. */
export const runAnnouncementSchema = z
  .object({
    format: z.literal(CLUSTER_FORMAT),
    run_id: runIdSchema,
    plan: z.string().min(1),
    /** The agents as the coordinator loaded them; a node serves an agent only when its hash matches. */
    agents: z.array(agentRecordSchema),
    coordinator: z.object({ host: z.string().min(1), pid }).strict(),
    started_at_ms: nonNeg,
    min_nodes: z.number().int().min(1),
    /** Job lock duration nodes use (ms): a node silent this long loses the attempt (then node_lost). */
    lock_ms: z.number().int().min(200).max(600_000).default(10_000),
  })
  .strict();
export type RunAnnouncement = z.output<typeof runAnnouncementSchema>;

/** The coordinator lease, under `{aos:R}:lease` with a PX TTL. */
export const leaseRecordSchema = z
  .object({
    run_id: runIdSchema,
    /** The fencing epoch this holder got from `{aos:R}:epoch`. */
    epoch: z.number().int().min(1),
    /** Random per acquisition: only the holder renews or releases. */
    token: z.string().min(8).max(64),
    host: z.string().min(1),
    pid,
    acquired_at_ms: nonNeg,
  })
  .strict();
export type LeaseRecord = z.output<typeof leaseRecordSchema>;

/** BullMQ job data of one attempt: today's `task` message plus what the node enforces, and the epoch. */
export const attemptJobSchema = z
  .object({
    format: z.literal(CLUSTER_FORMAT),
    run_id: runIdSchema,
    /** The coordinator's epoch: a node refuses jobs of an epoch older than the run's. */
    epoch: z.number().int().min(1),
    task: taskId,
    attempt: z.number().int().min(1),
    agent: agentName,
    input: z.unknown(),
    deps: z.record(z.string(), z.unknown()),
    inject: z.enum(FAULTS).nullable(),
    timeout_ms: z.number().int().positive(),
    memory_mb: z.number().int().positive().nullable(),
  })
  .strict();
export type AttemptJob = z.output<typeof attemptJobSchema>;

/** What the node returns for an attempt (the job's return value). Agent failures are results, not job failures. */
export const attemptResultSchema = z
  .object({
    format: z.literal(CLUSTER_FORMAT),
    run_id: runIdSchema,
    task: taskId,
    attempt: z.number().int().min(1),
    node: nodeIdSchema,
    pid,
    instance: nonNeg,
    peak_rss_mb: mb,
    duration_ms: nonNeg,
    outcome: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), output: z.unknown() }).strict(),
      z.object({ ok: z.literal(false), kind: z.enum(FAILURE_KINDS), message: z.string() }).strict(),
    ]),
  })
  .strict();
export type AttemptResult = z.output<typeof attemptResultSchema>;

/**
 * Parse a JSON payload read from Redis.
 * @throws AgentOSError `E_CLUSTER` naming the key and the field, when it is not JSON or not valid.
 */
export function parseRecord<S extends z.ZodType>(schema: S, raw: string, key: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AgentOSError('E_CLUSTER', `Redis key ${key}: not JSON (${JSON.stringify(raw.slice(0, 60))}). Fix: something other than AgentOS wrote it; delete the key.`);
  }
  const fmt = (json as { format?: unknown } | null)?.format;
  if (typeof fmt === 'number' && fmt > CLUSTER_FORMAT) {
    throw new AgentOSError('E_CLUSTER', `Redis key ${key}: format ${fmt} is newer than this AgentOS reads (${CLUSTER_FORMAT}). Fix: run the same AgentOS version on every machine.`);
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new AgentOSError('E_CLUSTER', `Redis key ${key}: ${issue.path.length > 0 ? `field '${issue.path.join('.')}': ` : ''}${issue.message}. Fix: run the same AgentOS version on every machine.`);
  }
  return r.data;
}
