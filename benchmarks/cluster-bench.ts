/**
 * `npm run bench:cluster` -> benchmarks/results/cluster.json
 *
 * Cluster mode on one machine (docs/cluster.md), real processes: a redis-server of its own (appendonly
 * yes, 127.0.0.1, a free port), `agentos node` processes each hosting `csleep` x10 instances, and
 * `agentos run|resume --cluster` coordinators. Same machine, same run:
 *  1. throughput: a layered DAG (LAYERS x WIDTH, 2 dependencies each, TASK_MS tasks) on 1 node, then 3;
 *  2. node SIGKILL at KILL_MS: every task done?, in-flight attempts restarted after how long, total vs clean;
 *  3. coordinator SIGKILL at KILL_MS, `resume --cluster` at once: takeover time, re-runs;
 *  4. no-op dispatch across 3 nodes (NOOP tasks, no dependencies), beside BullMQ's own sandboxed-processor
 *     figure measured in the same run (benchmarks/peers/bullmq.ts).
 * Defaults are a shorter variant (10 x 60 = 600 tasks, kill at 1.5 s); the full size is
 * BENCH_WIDTH=300 BENCH_KILL_MS=4000. Lock 2 s + stall check 1 s (short settings, as the issue asks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { clusterKeys } from '../src/cluster/keys.js';
import { listNodes } from '../src/cluster/registry.js';
import { PACKAGE_ROOT } from '../src/paths.js';
import { runBullmq } from './peers/bullmq.js';

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
const LAYERS = env('BENCH_LAYERS', 10);
const WIDTH = env('BENCH_WIDTH', 60);
const TASK_MS = env('BENCH_TASK_MS', 200);
const KILL_MS = env('BENCH_KILL_MS', 1500);
const NOOP = env('BENCH_NOOP', 1500);
const LOCK = ['--lock-ms', '2000', '--stall-ms', '1000'];
const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const AGENTS = join(PACKAGE_ROOT, 'benchmarks', 'cluster-agents');
const OUT = join(PACKAGE_ROOT, 'benchmarks', 'results', 'cluster.json');

interface P {
  proc: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | null>;
}
const procs = new Set<P>();

function start(args: string[], cwd: string, bin = process.execPath): P {
  const proc = spawn(bin, bin === process.execPath ? [CLI, ...args] : args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd } });
  const p: P = { proc, out: '', err: '', exited: new Promise((r) => proc.once('exit', (c) => r(c))) };
  proc.stdout!.on('data', (c: Buffer) => (p.out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (p.err += c.toString()));
  procs.add(p);
  void p.exited.then(() => procs.delete(p));
  return p;
}

async function untilAsync(what: string, cond: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function plan(file: string, layers: number, width: number, ms: number, marker?: string): number {
  const lines = [`name: cluster-bench-${layers}x${width}`, 'tasks:'];
  const m = marker ? `, marker: ${JSON.stringify(marker)}` : '';
  for (let l = 0; l < layers; l++)
    for (let w = 0; w < width; w++) {
      const deps = l === 0 ? '' : `t${l - 1}_${w}, t${l - 1}_${(w + 1) % width}`;
      lines.push(`  - { id: t${l}_${w}, agent: csleep, deps: [${deps}], input: { ms: ${ms}${m} } }`);
    }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return layers * width;
}

interface Report {
  status: string;
  duration_ms: number;
  run_dir: string;
  tasks: Array<{ id: string; state: string; failures: Array<{ kind: string }> }>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agentos-cluster-bench-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const redis = start(['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--logfile', ''], dir, 'redis-server');
  await until('redis', () => /Ready to accept connections/.test(redis.out + redis.err), 15_000);
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
  const nodes = new Map<string, P>();
  const node = async (id: string): Promise<void> => {
    const n = start(['node', '--cluster', url, '--agents', AGENTS, '--id', id, '--dir', join(dir, id)], dir);
    nodes.set(id, n);
    await until(`node ${id}`, () => /joined the cluster/.test(n.err), 60_000);
  };
  const coordinator = (args: string[]): P => start([...args, '--cluster', url, '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'runs'), ...LOCK], dir);
  const report = async (p: P, what: string): Promise<Report> => {
    const code = await p.exited;
    if (code !== 0) throw new Error(`${what}: exit ${code}\n${p.err.slice(-2000)}`);
    return JSON.parse(p.out) as Report;
  };
  const result: Record<string, unknown> = { when: new Date().toISOString(), cpus: cpus().length, loadavg_before: loadavg().map((x) => Math.round(x * 10) / 10), settings: { layers: LAYERS, width: WIDTH, task_ms: TASK_MS, instances_per_node: 10, lock_ms: 2000, stall_ms: 1000, kill_ms: KILL_MS, noop_tasks: NOOP } };
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  try {
    const dag = join(dir, 'dag.yaml');
    const n = plan(dag, LAYERS, WIDTH, TASK_MS);
    await node('b1');
    const one = await report(coordinator(['run', dag, '--min-nodes', '1']), '1 node');
    log(`1 node: ${n} tasks in ${one.duration_ms} ms`);
    await Promise.all([node('b2'), node('b3')]);
    const three = await report(coordinator(['run', dag, '--min-nodes', '3']), '3 nodes');
    log(`3 nodes: ${n} tasks in ${three.duration_ms} ms (${(one.duration_ms / three.duration_ms).toFixed(2)}x)`);
    result.throughput = { tasks: n, one_node_ms: one.duration_ms, three_nodes_ms: three.duration_ms, speedup: Math.round((one.duration_ms / three.duration_ms) * 100) / 100, one_node_tasks_per_s: Math.round((n * 1000) / one.duration_ms), three_nodes_tasks_per_s: Math.round((n * 1000) / three.duration_ms) };

    // Node SIGKILL at KILL_MS after the coordinator announced the run.
    const k = coordinator(['run', dag, '--min-nodes', '3']);
    await until('announced', () => /run \w+ on the cluster/.test(k.err));
    const announcedAt = Date.now();
    await new Promise((r) => setTimeout(r, KILL_MS));
    // Not before the victim runs attempts (its heartbeat's process table says so): a loaded machine may
    // take longer than KILL_MS to start its pools.
    await untilAsync('b2 busy', async () => (await listNodes(client, clusterKeys())).nodes.some((x) => x.record.id === 'b2' && x.record.load.busy > 0));
    const killedAt = Date.now();
    nodes.get('b2')!.proc.kill('SIGKILL');
    const kr = await report(k, 'node kill');
    const lostTasks = new Set(kr.tasks.filter((t) => t.failures.some((f) => f.kind === 'node_lost')).map((t) => t.id));
    // When each lost task's next attempt started (events.jsonl of the coordinator), after the kill.
    const restarts: number[] = [];
    const seen = new Map<string, number>();
    for (const line of readFileSync(join(kr.run_dir, 'events.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as { type: string; task?: string; state?: string; time: number };
      if (e.type !== 'task.state' || e.state !== 'running' || !e.task || !lostTasks.has(e.task)) continue;
      seen.set(e.task, (seen.get(e.task) ?? 0) + 1);
      if (seen.get(e.task) === 2) restarts.push(e.time - killedAt);
    }
    result.node_kill = { killed_after_ms: killedAt - announcedAt, tasks: n, succeeded: kr.tasks.filter((t) => t.state === 'succeeded').length, in_flight_lost: lostTasks.size, restarted_after_ms_max: restarts.length ? Math.max(...restarts) : null, restarted_after_ms_min: restarts.length ? Math.min(...restarts) : null, total_ms: kr.duration_ms, clean_ms: three.duration_ms, extra_ms: kr.duration_ms - three.duration_ms };
    log(`node kill: ${JSON.stringify(result.node_kill)}`);
    await node('b4');

    // Coordinator SIGKILL at KILL_MS, resume at once.
    const marks = join(dir, 'takeover.marks');
    const dag2 = join(dir, 'dag2.yaml');
    plan(dag2, LAYERS, WIDTH, TASK_MS, marks);
    const c1 = coordinator(['run', dag2, '--min-nodes', '3']);
    await until('announced', () => /run \w+ on the cluster/.test(c1.err));
    const runId = /run (\w+) on the cluster/.exec(c1.err)![1]!;
    await new Promise((r) => setTimeout(r, KILL_MS));
    c1.proc.kill('SIGKILL');
    const cKilled = Date.now();
    await c1.exited;
    const c2 = coordinator(['resume', runId]);
    await until('taken over', () => /taking over with epoch/.test(c2.err));
    const takeoverMs = Date.now() - cKilled;
    const cr = await report(c2, 'resume');
    const starts = new Map<string, number>();
    for (const l of readFileSync(marks, 'utf8').split('\n').filter(Boolean)) starts.set(l.split(' ')[0]!, (starts.get(l.split(' ')[0]!) ?? 0) + 1);
    result.takeover = { tasks: n, succeeded: cr.tasks.filter((t) => t.state === 'succeeded').length, takeover_ms: takeoverMs, re_ran: [...starts.values()].filter((x) => x > 1).length, resumed_run_ms: cr.duration_ms };
    log(`takeover: ${JSON.stringify(result.takeover)}`);

    // No-op dispatch across 3 nodes.
    const flat = join(dir, 'noop.yaml');
    plan(flat, 1, NOOP, 0);
    const nr = await report(coordinator(['run', flat, '--min-nodes', '3']), 'noop');
    result.noop = { tasks: NOOP, ms: nr.duration_ms, tasks_per_s: Math.round((NOOP * 1000) / nr.duration_ms) };
    log(`no-op: ${JSON.stringify(result.noop)}`);
    const bull = await runBullmq({ quick: true, log });
    result.bullmq_sandboxed = bull.skipped ?? bull.dispatch[0] ?? null;
    result.loadavg_after = loadavg().map((x) => Math.round(x * 10) / 10);
    if (!existsSync(join(PACKAGE_ROOT, 'benchmarks', 'results'))) mkdirSync(join(PACKAGE_ROOT, 'benchmarks', 'results'), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    log(`written ${OUT}`);
  } finally {
    client.disconnect();
    // Nodes and coordinators first (they drain through Redis), Redis last.
    const others = [...procs].filter((p) => p !== redis);
    for (const p of others) p.proc.kill('SIGTERM');
    await Promise.all(others.map((p) => p.exited));
    redis.proc.kill('SIGTERM');
    await redis.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cluster failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
