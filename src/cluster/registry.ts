/**
 * Who is in the cluster: node registration with heartbeats, the table of runs in progress, and the
 * readers `cluster status`, `ps --cluster` and the dashboard use.
 *
 * A node's record lives at `{aos}:node:<id>` with a PX TTL (default 5 s) renewed by each heartbeat
 * (default every 1 s), so a dead node vanishes by itself; `{aos}:nodes` is a ZSET index (score: the Redis
 * time of the last heartbeat) so a reader lists nodes without SCAN. Heartbeat times come from Redis's
 * clock (TIME inside the script) and ages are computed against it, so clock skew between machines does
 * not show up as a dead or young node. The record carries the node's process table.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AgentOSError } from '../errors.js';
import { CLUSTER_FORMAT, nodeRecordSchema, parseRecord, runAnnouncementSchema, leaseRecordSchema, type ClusterKeys, type LeaseRecord, type NodeRecord, type RunAnnouncement } from './keys.js';

/** What changes between heartbeats: the node supplies it at each beat. */
export type NodeSnapshot = Pick<NodeRecord, 'agents' | 'capacity' | 'load' | 'draining' | 'processes'>;

export interface NodeRegistrationOptions {
  id: string;
  snapshot: () => NodeSnapshot;
  /** @default 1000 */
  intervalMs?: number;
  /** Record TTL: a node silent this long is gone. @default 5000 */
  ttlMs?: number;
  host?: string;
  pid?: number;
  /** A heartbeat failed (Redis away); the next one is tried anyway. */
  onError?: (err: Error) => void;
  /** Another process registered under this id after our record expired (we were cut off). */
  onTaken?: (other: NodeRecord) => void;
}

// KEYS[1] node key, KEYS[2] index. ARGV[1] record, ARGV[2] '"token":"T"', ARGV[3] ttl, ARGV[4] id.
// {'OK', now_ms} or {'TAKEN', current record}.
const BEAT_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and not string.find(cur, ARGV[2], 1, true) then return {'TAKEN', cur} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[4])
return {'OK', tostring(now)}
`;

const LEAVE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and string.find(cur, ARGV[1], 1, true) then redis.call('DEL', KEYS[1]) redis.call('ZREM', KEYS[2], ARGV[2]) return 1 end
return 0
`;

interface RegistryCommands {
  aosNodeBeat(node: string, index: string, rec: string, token: string, ttl: string, id: string): Promise<[string, string]>;
  aosNodeLeave(node: string, index: string, token: string, id: string): Promise<number>;
}

function commands(redis: Redis): Redis & RegistryCommands {
  const r = redis as Redis & Partial<RegistryCommands>;
  if (!r.aosNodeBeat) {
    redis.defineCommand('aosNodeBeat', { numberOfKeys: 2, lua: BEAT_LUA });
    redis.defineCommand('aosNodeLeave', { numberOfKeys: 2, lua: LEAVE_LUA });
  }
  return redis as Redis & RegistryCommands;
}

/** A registered node: heartbeats run until `leave()`. */
export interface NodeRegistration {
  readonly record: () => NodeRecord;
  /** Send a heartbeat now. @throws AgentOSError `E_CLUSTER` when another node holds the id. */
  beat(): Promise<void>;
  /** Stop the heartbeats and remove the record (only if it is still ours). Idempotent. */
  leave(): Promise<void>;
}

/**
 * Register a node and start its heartbeats. The first heartbeat is sent before this resolves.
 * @throws AgentOSError `E_CLUSTER` when a live node already uses this id (names its host and pid).
 */
export async function registerNode(redis: Redis, keys: ClusterKeys, opts: NodeRegistrationOptions): Promise<NodeRegistration> {
  const r = commands(redis);
  const key = keys.node(opts.id);
  const ttl = opts.ttlMs ?? 5000;
  const interval = opts.intervalMs ?? 1000;
  if (!(interval > 0 && interval < ttl)) throw new AgentOSError('E_USAGE', `heartbeat intervalMs (${interval}) must be above 0 and below ttlMs (${ttl}).`);
  const fixed = { format: CLUSTER_FORMAT, id: opts.id, token: randomBytes(12).toString('hex'), host: opts.host ?? hostname(), pid: opts.pid ?? process.pid, started_at_ms: Date.now() };
  const tokenNeedle = `"token":"${fixed.token}"`;
  const record = (): NodeRecord => nodeRecordSchema.parse({ ...fixed, ...opts.snapshot() });
  let timer: NodeJS.Timeout | null = null;
  let left = false;

  const beat = async (): Promise<void> => {
    const [status, detail] = await r.aosNodeBeat(key, keys.nodes, JSON.stringify(record()), tokenNeedle, String(ttl), opts.id);
    if (status === 'TAKEN') {
      const other = parseRecord(nodeRecordSchema, detail, key);
      throw Object.assign(new AgentOSError('E_CLUSTER', `node id '${opts.id}' is in use by pid ${other.pid} on ${other.host}. Fix: give this node another --id, or stop that one (its record expires ${ttl} ms after its last heartbeat).`), { other });
    }
  };
  const loop = (): void => {
    timer = setTimeout(() => {
      beat().then(
        () => !left && loop(),
        (err: Error & { other?: NodeRecord }) => {
          if (err.other) opts.onTaken?.(err.other);
          else opts.onError?.(err);
          if (!left) loop();
        },
      );
    }, interval);
    timer.unref();
  };

  await beat();
  loop();
  return {
    record,
    beat,
    leave: async () => {
      if (left) return;
      left = true;
      if (timer) clearTimeout(timer);
      await r.aosNodeLeave(key, keys.nodes, tokenNeedle, opts.id);
    },
  };
}

/** A live node as a reader sees it. `age_ms`: since its last heartbeat, on Redis's clock. */
export interface LiveNode {
  record: NodeRecord;
  last_heartbeat_ms: number;
  age_ms: number;
}

/** A run in progress and the state of its coordinator lease (null: expired, the coordinator is gone). */
export interface RunInProgress {
  announcement: RunAnnouncement;
  lease: (LeaseRecord & { ttl_ms: number }) | null;
}

/** Records that could not be read, as messages (a reader shows the rest rather than failing whole). */
export type Problems = string[];

/** Redis's clock, in epoch ms. */
export async function redisTimeMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/**
 * The live nodes, by id. Index entries whose record expired are pruned on the way.
 * @returns nodes and problems (a record another version wrote, …).
 */
export async function listNodes(redis: Redis, keys: ClusterKeys): Promise<{ nodes: LiveNode[]; problems: Problems }> {
  const [now, flat] = await Promise.all([redisTimeMs(redis), redis.zrange(keys.nodes, 0, -1, 'WITHSCORES')]);
  const ids: Array<{ id: string; at: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) ids.push({ id: flat[i]!, at: Number(flat[i + 1]) });
  if (ids.length === 0) return { nodes: [], problems: [] };
  const raws = await redis.mget(ids.map((x) => keys.node(x.id)));
  const nodes: LiveNode[] = [];
  const problems: Problems = [];
  const gone: string[] = [];
  ids.forEach(({ id, at }, i) => {
    const raw = raws[i];
    if (raw === null || raw === undefined) return void gone.push(id);
    try {
      nodes.push({ record: parseRecord(nodeRecordSchema, raw, keys.node(id)), last_heartbeat_ms: at, age_ms: Math.max(0, now - at) });
    } catch (err) {
      problems.push((err as Error).message);
    }
  });
  if (gone.length > 0) await redis.zrem(keys.nodes, ...gone);
  nodes.sort((a, b) => a.record.id.localeCompare(b.record.id));
  return { nodes, problems };
}

/** Announce a run to the nodes: recorded in `{aos}:runs` and published on `{aos}:runs:announced`. */
export async function announceRun(redis: Redis, keys: ClusterKeys, ann: z.input<typeof runAnnouncementSchema>): Promise<void> {
  const rec = runAnnouncementSchema.parse(ann);
  keys.run(rec.run_id);
  await redis.multi().hset(keys.runs, rec.run_id, JSON.stringify(rec)).publish(keys.runsChannel, rec.run_id).exec();
}

/** The run is over: nodes stop serving it. */
export async function endRun(redis: Redis, keys: ClusterKeys, runId: string): Promise<void> {
  await redis.hdel(keys.runs, keys.run(runId).runId);
}

/** Runs in progress, by start time, each with its coordinator's lease. */
export async function listRuns(redis: Redis, keys: ClusterKeys): Promise<{ runs: RunInProgress[]; problems: Problems }> {
  const all = await redis.hgetall(keys.runs);
  const runs: RunInProgress[] = [];
  const problems: Problems = [];
  for (const [id, raw] of Object.entries(all)) {
    try {
      const announcement = parseRecord(runAnnouncementSchema, raw, `${keys.runs} field ${id}`);
      const rk = keys.run(announcement.run_id);
      const [lraw, pttl] = await Promise.all([redis.get(rk.lease), redis.pttl(rk.lease)]);
      const lease = lraw === null ? null : { ...parseRecord(leaseRecordSchema, lraw, rk.lease), ttl_ms: Math.max(0, pttl) };
      runs.push({ announcement, lease });
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  runs.sort((a, b) => a.announcement.started_at_ms - b.announcement.started_at_ms);
  return { runs, problems };
}

export { acquireLease, type Lease, type LeaseOptions } from './lease.js';
