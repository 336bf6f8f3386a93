/**
 * `agentos cluster status`: the nodes (id, host, pid, agents hosted, load, last heartbeat age) and the
 * runs in progress (coordinator, epoch, lease), as data and as text.
 */
import type { Redis } from 'ioredis';
import type { ClusterKeys, ProcessEntry } from './keys.js';
import { listNodes, listRuns, redisTimeMs } from './registry.js';

export interface NodeStatus {
  id: string;
  host: string;
  pid: number;
  /** `name×instances`, in the node's order. */
  agents: Array<{ name: string; instances: number }>;
  busy: number;
  instances: number;
  capacity_mb: number | null;
  loadavg_1m: number;
  rss_mb: number;
  draining: boolean;
  last_heartbeat_age_ms: number;
  processes: ProcessEntry[];
}

export interface RunStatus {
  run_id: string;
  plan: string;
  coordinator: { host: string; pid: number };
  started_at_ms: number;
  min_nodes: number;
  /** The lease: held (epoch, holder, ms left) or null when it expired (`agentos resume --cluster` takes over). */
  lease: { epoch: number; host: string; pid: number; ttl_ms: number } | null;
}

export interface ClusterStatus {
  /** The Redis target, password redacted. */
  redis: string;
  /** Redis's clock when read, epoch ms. */
  at_ms: number;
  nodes: NodeStatus[];
  runs: RunStatus[];
  /** Records that could not be read (another AgentOS version, damage). */
  problems: string[];
}

/** Read the cluster's state from Redis. @throws what ioredis throws when Redis is unreachable. */
export async function readClusterStatus(redis: Redis, keys: ClusterKeys, target: string): Promise<ClusterStatus> {
  const [at, n, r] = await Promise.all([redisTimeMs(redis), listNodes(redis, keys), listRuns(redis, keys)]);
  return {
    redis: target,
    at_ms: at,
    nodes: n.nodes.map(({ record: rec, age_ms }) => ({
      id: rec.id,
      host: rec.host,
      pid: rec.pid,
      agents: rec.agents.map((a) => ({ name: a.name, instances: a.instances })),
      busy: rec.load.busy,
      instances: rec.capacity.instances,
      capacity_mb: rec.capacity.capacity_mb,
      loadavg_1m: rec.load.loadavg_1m,
      rss_mb: rec.load.rss_mb,
      draining: rec.draining,
      last_heartbeat_age_ms: age_ms,
      processes: rec.processes,
    })),
    runs: r.runs.map(({ announcement: a, lease }) => ({
      run_id: a.run_id,
      plan: a.plan,
      coordinator: a.coordinator,
      started_at_ms: a.started_at_ms,
      min_nodes: a.min_nodes,
      lease: lease && { epoch: lease.epoch, host: lease.host, pid: lease.pid, ttl_ms: lease.ttl_ms },
    })),
    problems: [...n.problems, ...r.problems],
  };
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => pad(cell, widths[c]!)).join('  ').trimEnd());
}

function age(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : ms < 3_600_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 3_600_000).toFixed(1)}h`;
}

/** The status as text lines: a node table, a run table, problems last. */
export function renderClusterStatus(s: ClusterStatus): string[] {
  const out = [`cluster ${s.redis}: ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}, ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} in progress`, ''];
  if (s.nodes.length === 0) out.push('no live nodes (start one: agentos node --cluster URL --agents DIR)');
  else {
    const rows = [['NODE', 'HOST', 'PID', 'AGENTS', 'LOAD', 'RSS MB', 'LOADAVG', 'HEARTBEAT']];
    for (const n of s.nodes) {
      const agents = n.agents.map((a) => `${a.name}×${a.instances}`).join(',') || '-';
      rows.push([n.id + (n.draining ? ' (draining)' : ''), n.host, String(n.pid), agents, `${n.busy}/${n.instances}`, n.rss_mb.toFixed(0), n.loadavg_1m.toFixed(2), `${age(n.last_heartbeat_age_ms)} ago`]);
    }
    out.push(...table(rows));
  }
  out.push('');
  if (s.runs.length === 0) out.push('no runs in progress');
  else {
    const rows = [['RUN', 'PLAN', 'COORDINATOR', 'EPOCH', 'LEASE', 'STARTED']];
    for (const r of s.runs) {
      const holder = r.lease ? `${r.lease.host}:${r.lease.pid}` : `${r.coordinator.host}:${r.coordinator.pid}`;
      const lease = r.lease ? `held, ${age(r.lease.ttl_ms)} left` : 'EXPIRED (agentos resume --cluster)';
      rows.push([r.run_id, r.plan, holder, r.lease ? String(r.lease.epoch) : '-', lease, `${age(Math.max(0, s.at_ms - r.started_at_ms))} ago`]);
    }
    out.push(...table(rows));
  }
  for (const p of s.problems) out.push(`problem: ${p}`);
  return out;
}
