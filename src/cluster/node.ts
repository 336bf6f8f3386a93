/**
 * `agentos node`: a long-running member of a cluster. It registers and heartbeats (./registry.ts) with
 * its process table, watches the runs announced on the cluster (pub/sub, and a periodic read of the run
 * table in case a message was missed or a run ended) and serves each run whose agents it has with the
 * same content hash as the coordinator (./node-run.ts). `stop()` drains: no new jobs, running attempts
 * finish, every process ends, the node leaves the registry.
 *
 * Redis trouble never ends a node: its clients reconnect forever and say so (./connect.ts). While Redis
 * is away no job can be taken (BullMQ's fetch waits on the connection) and running attempts go on; an
 * attempt whose lock could not be renewed for the lock duration is ended (node-run.ts).
 */
import { hostname, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { AgentRegistry } from '../config/registry.js';
import { hashAgent } from '../journal/hash.js';
import { connectRedis, clusterRedisOptions, type Say } from './connect.js';
import { clusterKeys, parseRecord, runAnnouncementSchema, type ClusterKeys, type NodeRecord, type RunAnnouncement } from './keys.js';
import { NodeRun, type RunCells } from './node-run.js';
import type { ClusterUrl } from './redis-url.js';
import { registerNode, type NodeRegistration, type NodeSnapshot } from './registry.js';

export interface ClusterNodeOptions {
  target: ClusterUrl;
  id: string;
  registry: AgentRegistry;
  /** Agents this node offers (instances from their specs), already fitted into --capacity-mb. */
  agents: readonly string[];
  capacityMb: number | null;
  /** Parent of the node's run directories. */
  dir: string;
  workerDir: string;
  namespace?: string;
  cells?: (runId: string) => RunCells | undefined;
  sandbox?: boolean;
  sampleMs?: number;
  /** How often the run table is read (ms). @default 1000 */
  scanMs?: number;
  heartbeatMs?: number;
  heartbeatTtlMs?: number;
  say: Say;
}

export class ClusterNode {
  private readonly keys: ClusterKeys;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly runs = new Map<string, NodeRun>();
  private readonly starting = new Map<string, Promise<void>>();
  private readonly hashes = new Map<string, string>();
  private reg: NodeRegistration | undefined;
  private scan: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly o: ClusterNodeOptions) {
    this.keys = clusterKeys(o.namespace ?? 'aos');
    this.redis = connectRedis(o.target, `node ${o.id}`, o.say);
    this.sub = connectRedis(o.target, `node ${o.id} runs (sub)`, o.say);
    for (const a of o.agents) this.hashes.set(a, hashAgent(o.registry.get(a)).hash);
  }

  /** Register, then serve the runs in progress and every run announced later. */
  async start(): Promise<NodeRecord> {
    this.reg = await registerNode(this.redis, this.keys, {
      id: this.o.id,
      snapshot: () => this.snapshot(),
      ...(this.o.heartbeatMs ? { intervalMs: this.o.heartbeatMs } : {}),
      ...(this.o.heartbeatTtlMs ? { ttlMs: this.o.heartbeatTtlMs } : {}),
      onError: (err) => this.o.say(`agentos node ${this.o.id}: heartbeat failed: ${err.message}`),
      onTaken: (other) => this.o.say(`agentos node ${this.o.id}: another node (pid ${other.pid} on ${other.host}) took this id while this one was cut off; draining`),
    });
    await this.sub.subscribe(this.keys.runsChannel);
    this.sub.on('message', () => void this.refresh());
    await this.refresh();
    this.scan = setInterval(() => void this.refresh(), this.o.scanMs ?? 1000);
    return this.reg.record();
  }

  private snapshot(): NodeSnapshot {
    const agents = this.o.agents.map((a) => {
      const s = this.o.registry.get(a);
      return { name: a, instances: s.instances, memory_mb: s.memory_mb };
    });
    const processes = [...this.runs.values()].flatMap((r) => r.processes());
    return {
      agents,
      capacity: { instances: agents.reduce((n, a) => n + a.instances, 0), capacity_mb: this.o.capacityMb },
      load: { busy: [...this.runs.values()].reduce((n, r) => n + r.busy, 0), loadavg_1m: loadavg()[0] ?? 0, rss_mb: Math.round(processes.reduce((n, p) => n + p.rss_mb, 0)) },
      draining: this.draining,
      processes,
    };
  }

  /** Serve new runs, drain runs that ended. Errors are said, never thrown (Redis may be away). */
  private async refresh(): Promise<void> {
    if (this.draining) return;
    let all: Record<string, string>;
    try {
      all = await this.redis.hgetall(this.keys.runs);
    } catch (err) {
      this.o.say(`agentos node ${this.o.id}: reading the run table: ${(err as Error).message}`);
      return;
    }
    for (const [id, raw] of Object.entries(all)) {
      if (this.runs.has(id) || this.starting.has(id)) continue;
      let ann: RunAnnouncement;
      try {
        ann = parseRecord(runAnnouncementSchema, raw, `${this.keys.runs} field ${id}`);
      } catch (err) {
        this.o.say(`agentos node ${this.o.id}: ${(err as Error).message}`);
        continue;
      }
      const p = this.serve(ann).finally(() => this.starting.delete(id));
      this.starting.set(id, p);
    }
    for (const [id, run] of this.runs) {
      if (all[id] !== undefined) continue;
      this.runs.delete(id);
      void run.drain().catch((err: Error) => this.o.say(`agentos node ${this.o.id}: ending run ${id}: ${err.message}`));
    }
  }

  /** The agents of a run this node serves: hosted here with the coordinator's content hash. */
  hostedFor(ann: RunAnnouncement): Map<string, number> {
    const hosted = new Map<string, number>();
    for (const a of ann.agents) if (this.hashes.get(a.name) === a.hash) hosted.set(a.name, this.o.registry.get(a.name).instances);
    return hosted;
  }

  private async serve(ann: RunAnnouncement): Promise<void> {
    const hosted = this.hostedFor(ann);
    const skipped = ann.agents.filter((a) => this.hashes.has(a.name) && !hosted.has(a.name)).map((a) => a.name);
    if (skipped.length > 0) this.o.say(`agentos node ${this.o.id}: run ${ann.run_id}: not serving ${skipped.join(', ')} (their files differ from the coordinator's)`);
    if (hosted.size === 0) return;
    const run = new NodeRun({
      nodeId: this.o.id,
      announcement: ann,
      keys: this.keys.run(ann.run_id),
      registry: this.o.registry,
      hosted,
      runDir: join(this.o.dir, ann.run_id),
      workerDir: this.o.workerDir,
      connection: clusterRedisOptions(this.o.target),
      redis: this.redis,
      client: (role) => connectRedis(this.o.target, `node ${this.o.id} ${role}`, this.o.say),
      cells: this.o.cells?.(ann.run_id),
      sandbox: this.o.sandbox ?? true,
      sampleMs: this.o.sampleMs ?? 250,
      say: this.o.say,
    });
    this.runs.set(ann.run_id, run);
    try {
      await run.start();
      this.o.say(`agentos node ${this.o.id}: serving run ${ann.run_id} (${[...hosted].map(([a, n]) => `${a}x${n}`).join(', ')})`);
    } catch (err) {
      this.o.say(`agentos node ${this.o.id}: could not serve run ${ann.run_id}: ${(err as Error).message}`);
      this.runs.delete(ann.run_id);
      await run.drain(true).catch(() => undefined);
    }
  }

  /** Live agent processes of every run (pids), for tests and `ps`. */
  pids(): number[] {
    return [...this.runs.values()].flatMap((r) => r.processes().map((p) => p.pid));
  }

  /**
   * Drain and leave: no new work, running attempts finish (`force`: ended now; they run again
   * elsewhere), every process ends, the record is removed. Idempotent.
   */
  stop(force = false): Promise<void> {
    // A second, forced stop while draining: end what still runs (the drain then completes).
    if (this.stopped && force) for (const r of this.runs.values()) r.abandon();
    this.stopped ??= (async () => {
      this.draining = true;
      if (this.scan) clearInterval(this.scan);
      await bounded(this.reg?.beat(), 2000);
      await Promise.all([...this.starting.values()]);
      await Promise.all([...this.runs.values()].map((r) => r.drain(force).catch((err: Error) => this.o.say(`agentos node ${this.o.id}: draining run ${r.runId}: ${err.message}`))));
      this.runs.clear();
      // Bounded: with Redis gone the record simply expires after its TTL.
      await bounded(this.reg?.leave(), 2000);
      for (const c of [this.sub, this.redis]) c.disconnect();
    })();
    return this.stopped;
  }

  get host(): string {
    return hostname();
  }
}

/** Wait for a step that needs Redis at most `ms`; its failure is ignored (said elsewhere). */
function bounded(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([(p ?? Promise.resolve()).then(() => undefined, () => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}
