/**
 * Cluster mode end to end (issue 12 step 1), with real processes: a redis-server of the test's own,
 * three `agentos node` processes and `agentos run|resume --cluster` coordinators.
 *   - a layered DAG runs on the cluster to the same outputs as a local run (and `ps --cluster` shows
 *     the nodes' processes while it runs);
 *   - a node SIGKILLed mid-run: every task succeeds, its lost attempts are `node_lost` (naming it) and
 *     ran again elsewhere, one result per attempt, nothing of the killed node left running;
 *   - the coordinator SIGKILLed mid-run, then `resume --cluster`: every task succeeds, no task that had
 *     started ran a second time (finished ones are kept, in-flight ones adopted).
 * Short lock/stall settings (1 s / 0.5 s) keep it quick. Skipped with a notice without redis-server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKeys } from '../../src/cluster/keys.js';
import { listNodes } from '../../src/cluster/registry.js';
import { agentos, AGENTS, alive, layeredPlan, markers, startNode, stopAll, until, type Proc } from './lab.js';
import { redisServerPath, startRedis, stopAllRedis, type RedisServer } from './redis.js';

const REDIS = redisServerPath();
const FAST = ['--lock-ms', '1000', '--stall-ms', '500'];

interface Report {
  status: string;
  run_id: string;
  tasks: Array<{ id: string; state: string; output: unknown; attempts: number; failures: Array<{ kind: string; message: string; attempt: number }> }>;
}

describe.skipIf(!REDIS)('cluster mode: nodes, coordinator, node and coordinator death', () => {
  let redis: RedisServer;
  let client: Redis;
  let dir: string;
  const nodes = new Map<string, Proc>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-cluster-'));
    redis = await startRedis();
    client = new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: null });
    const started = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(redis.url, id, dir)));
    started.forEach((p, i) => nodes.set(`n${i + 1}`, p));
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    client?.disconnect();
    await stopAllRedis();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const json = (p: Proc): Report => JSON.parse(p.out()) as Report;

  it('runs a layered DAG on 3 nodes to the same outputs as a local run', async () => {
    const plan = join(dir, 'same.yaml');
    const ids = layeredPlan(plan, { layers: 4, width: 6, ms: 30, marker: join(dir, 'same.marks') });
    const local = agentos(['run', plan, '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'local')], dir);
    const cl = agentos(['run', plan, '--cluster', redis.url, '--min-nodes', '3', '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'runs'), ...FAST], dir);
    // While it runs, every node publishes its processes: ps --cluster sees all three nodes' agents.
    await cl.waitFor(/run (\w+) on the cluster/);
    await until('every node serves the run', () => ['n1', 'n2', 'n3'].every((n) => /serving run/.test(nodes.get(n)!.err())));
    const ps = agentos(['ps', '--cluster', redis.url, '--json'], dir);
    expect((await ps.exited).code).toBe(0);
    const table = JSON.parse(ps.out()) as { nodes: number; processes: Array<{ node: string; agent: string; pid: number }> };
    expect(table.nodes).toBe(3);
    const [lc, cc] = await Promise.all([local.exited, cl.exited]);
    expect(lc.code, local.err()).toBe(0);
    expect(cc.code, `${cl.err()}\n${JSON.stringify(json(cl).tasks.filter((t) => t.state !== 'succeeded'))}`).toBe(0);
    const a = json(local);
    const b = json(cl);
    expect(b.status).toBe('succeeded');
    const outputs = (r: Report) => Object.fromEntries(r.tasks.map((t) => [t.id, t.output]));
    expect(outputs(b)).toEqual(outputs(a));
    expect(Object.keys(outputs(b)).sort()).toEqual([...ids].sort());
    expect(b.tasks.every((t) => t.attempts === 1 && t.failures.length === 0)).toBe(true);
  }, 60_000);

  it('a node SIGKILLed mid-run: every task succeeds, lost attempts are node_lost and ran elsewhere, nothing of it left', async () => {
    const marks = join(dir, 'kill.marks');
    const plan = join(dir, 'kill.yaml');
    const ids = layeredPlan(plan, { layers: 3, width: 6, ms: 600, marker: marks });
    const cl = agentos(['run', plan, '--cluster', redis.url, '--min-nodes', '3', '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'runs'), ...FAST], dir);
    const keys = clusterKeys();
    // The victim: n2, once it runs attempts (its heartbeat's process table says which pids are busy).
    let victimPids: number[] = [];
    await until('n2 runs an attempt', async () => {
      const { nodes: live } = await listNodes(client, keys);
      const rec = live.find((n) => n.record.id === 'n2')?.record;
      victimPids = rec?.processes.map((p) => p.pid) ?? [];
      return (rec?.processes.some((p) => p.state === 'busy') ?? false) && markers(marks).some((m) => m.what === 'start' && victimPids.includes(m.pid));
    });
    const victim = nodes.get('n2')!;
    process.kill(victim.pid, 'SIGKILL');
    await victim.exited;
    nodes.delete('n2');
    // Its agents die with it (its reaper ends their process groups).
    await until('the killed node\'s agent processes are gone', () => victimPids.every((p) => !alive(p)), 15_000);
    const done = await cl.exited;
    expect(done.code, cl.err()).toBe(0);
    const r = json(cl);
    expect(r.status).toBe('succeeded');
    expect(r.tasks.map((t) => t.id).sort()).toEqual([...ids].sort());
    const lost = r.tasks.flatMap((t) => t.failures.filter((f) => f.kind === 'node_lost').map((f) => ({ task: t, f })));
    expect(lost.length).toBeGreaterThan(0);
    for (const { task, f } of lost) {
      expect(f.message).toMatch(/node n2 lost/);
      expect(task.state).toBe('succeeded');
      // One result per attempt: the lost attempt has its failure, the next its success.
      expect(task.attempts).toBe(task.failures.length + 1);
    }
    for (const t of r.tasks) expect(t.failures.every((f) => f.kind === 'node_lost')).toBe(true);
    // Every success came from a process of a live node, none from the killed one after its death.
    const finishedBy = markers(marks).filter((m) => m.what === 'done');
    const perAttempt = new Map<string, number>();
    for (const m of finishedBy) perAttempt.set(`${m.task}.${m.attempt}`, (perAttempt.get(`${m.task}.${m.attempt}`) ?? 0) + 1);
    expect([...perAttempt.values()].every((n) => n === 1)).toBe(true);
    expect(victimPids.every((p) => !alive(p))).toBe(true);
    // A replacement joins for the next test.
    nodes.set('n4', await startNode(redis.url, 'n4', dir));
  }, 60_000);

  it('the coordinator SIGKILLed mid-run, then resume --cluster: every task succeeds, no started task ran twice', async () => {
    const marks = join(dir, 'coord.marks');
    const plan = join(dir, 'coord.yaml');
    const ids = layeredPlan(plan, { layers: 4, width: 6, ms: 300, marker: marks });
    const first = agentos(['run', plan, '--cluster', redis.url, '--min-nodes', '3', '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'runs'), ...FAST], dir);
    const runId = (await first.waitFor(/run (\w+) on the cluster/))[1]!;
    await until('a layer has finished', () => markers(marks).filter((m) => m.what === 'done').length >= 8);
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    const before = new Set(markers(marks).filter((m) => m.what === 'done').map((m) => m.task));
    const second = agentos(['resume', runId, '--cluster', redis.url, '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'runs'), ...FAST], dir);
    const done = await second.exited;
    expect(done.code, second.err()).toBe(0);
    const r = json(second);
    expect(r.status).toBe('succeeded');
    expect(r.tasks.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(r.tasks.every((t) => t.state === 'succeeded')).toBe(true);
    const starts = new Map<string, number>();
    for (const m of markers(marks).filter((x) => x.what === 'start')) starts.set(m.task, (starts.get(m.task) ?? 0) + 1);
    for (const t of before) expect(starts.get(t), `finished task ${t} ran again`).toBe(1);
    expect([...starts.entries()].filter(([, n]) => n > 1)).toEqual([]);
  }, 60_000);
});
