/** Node registry, run table, coordinator lease and `cluster status`, with real processes and a real Redis. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterKeys, type NodeRecord } from '../../src/cluster/keys.js';
import { acquireLease, announceRun, endRun, listNodes, listRuns, registerNode, type NodeSnapshot } from '../../src/cluster/registry.js';
import { ioredisOptions, parseClusterUrl } from '../../src/cluster/redis-url.js';
import { clusterStatusCommand } from '../../src/cluster/status-command.js';
import { AgentOSError } from '../../src/errors.js';
import { pidAlive, waitFor } from '../helpers.js';
import { freePort, redisServerPath, startRedis, stopAllRedis, type RedisServer } from './redis.js';

const REDIS = redisServerPath();
const CHILD = fileURLToPath(new URL('./fixtures/cluster-child.mjs', import.meta.url));
const keys = clusterKeys('aos');
const clients: Redis[] = [];
const children: ChildProcess[] = [];

function client(r: RedisServer): Redis {
  const c = new Redis(ioredisOptions(parseClusterUrl(r.url, {}), { maxRetriesPerRequest: null }));
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

/** Start the fixture; resolves with it and a live view of its stdout lines. */
function child(args: string[]): { proc: ChildProcess; lines: string[] } {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const lines: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return { proc, lines };
}

async function killed(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await gone;
}

const snapshot = (busy = 0): NodeSnapshot => ({
  agents: [{ name: 'echo', instances: 2, memory_mb: 64 }],
  capacity: { instances: 2, capacity_mb: 256 },
  load: { busy, loadavg_1m: 0.1, rss_mb: 50 },
  draining: false,
  processes: [],
});

function capture(): { io: { out: (l: string) => void; err: (l: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

afterAll(async () => {
  for (const p of children) await killed(p, 'SIGKILL');
  for (const c of clients) c.disconnect();
  await stopAllRedis();
});

describe.skipIf(!REDIS)('cluster registry', () => {
  let r: RedisServer;
  beforeAll(async () => {
    r = await startRedis({ password: 'reg-pw' });
  });

  it('a node process heartbeats its process table; SIGKILLed, it drops out after its TTL', async () => {
    const c = client(r);
    const n = child(['node', r.url, 'n1', '100', '600']);
    await waitFor(() => n.lines.some((l) => l.startsWith('registered')), 20_000, 'node registered');
    const agentPid = Number(n.lines.find((l) => l.startsWith('registered'))!.split(' ')[1]);
    const { nodes } = await listNodes(c, keys);
    expect(nodes.map((x) => x.record.id)).toEqual(['n1']);
    const rec: NodeRecord = nodes[0]!.record;
    expect(rec).toMatchObject({ pid: n.proc.pid, agents: [{ name: 'echo', instances: 1 }] });
    expect(rec.processes).toEqual([expect.objectContaining({ agent: 'echo', pid: agentPid, state: 'busy', task: 't1' })]);
    // The RSS is read from /proc at each heartbeat: the agent's grows past 1 MB once node has started.
    let rss = 0;
    const poll0 = setInterval(() => void listNodes(c, keys).then((x) => (rss = x.nodes[0]?.record.processes[0]?.rss_mb ?? 0)), 50);
    await waitFor(() => rss > 1, 5000, 'the agent RSS in a heartbeat').finally(() => clearInterval(poll0));
    expect(nodes[0]!.age_ms).toBeLessThan(1000);
    // Its heartbeats keep it alive past one TTL.
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 900, 2000);
    expect((await listNodes(c, keys)).nodes).toHaveLength(1);
    await killed(n.proc, 'SIGKILL');
    process.kill(agentPid, 'SIGKILL'); // the fixture's agent is not ours to leave behind
    await waitFor(() => !pidAlive(agentPid), 5000, 'agent gone');
    let left = 1;
    const poll = setInterval(() => void listNodes(c, keys).then((x) => (left = x.nodes.length)), 50);
    await waitFor(() => left === 0, 5000, 'the dead node to drop out').finally(() => clearInterval(poll));
    expect(await c.zcard(keys.nodes)).toBe(0);
  });

  it('refuses a second live node with the same id; leave() removes the record', async () => {
    const c = client(r);
    const a = await registerNode(c, keys, { id: 'dup', snapshot, intervalMs: 100, ttlMs: 1000 });
    const err = await registerNode(c, keys, { id: 'dup', snapshot, intervalMs: 100, ttlMs: 1000, pid: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentOSError);
    expect((err as AgentOSError).code).toBe('E_CLUSTER');
    expect((err as Error).message).toMatch(new RegExp(`in use by pid ${process.pid}`));
    await a.leave();
    expect((await listNodes(c, keys)).nodes.filter((x) => x.record.id === 'dup')).toEqual([]);
  });

  it('a coordinator SIGKILLed with the lease: a successor takes it after the TTL with a higher epoch', async () => {
    const c = client(r);
    const a = child(['lease', r.url, 'runk', '800', '200']);
    await waitFor(() => a.lines.includes('acked 3'), 20_000, 'first coordinator writing');
    expect(a.lines[0]).toBe('epoch 1');
    const held = await acquireLease(c, keys.run('runk')).catch((e: unknown) => e);
    expect((held as AgentOSError).code).toBe('E_LEASE_HELD');
    expect((held as Error).message).toMatch(new RegExp(`pid ${a.proc.pid} .*epoch 1`));
    await killed(a.proc, 'SIGKILL');
    const t0 = Date.now();
    const lease = await acquireLease(c, keys.run('runk'), { ttlMs: 800, renewMs: 200, waitMs: 5000 });
    expect(lease.epoch).toBe(2);
    expect(Date.now() - t0).toBeLessThan(2000);
    await lease.release();
    expect(await c.exists(keys.run('runk').lease)).toBe(0);
  });

  it('a coordinator paused past its TTL is fenced: its journal write is refused and it learns it lost the lease', async () => {
    const c = client(r);
    const a = child(['lease', r.url, 'runf', '600', '150']);
    await waitFor(() => a.lines.includes('acked 2'), 20_000, 'first coordinator writing');
    a.proc.kill('SIGSTOP');
    const b = await acquireLease(c, keys.run('runf'), { ttlMs: 600, renewMs: 150, waitMs: 5000 });
    expect(b.epoch).toBe(2);
    const len = await c.xlen(keys.run('runf').journal);
    a.proc.kill('SIGCONT');
    // Generous: on a loaded machine the continued process may wait long for a core. Its last lines say where it stood.
    await waitFor(() => a.lines.some((l) => l.startsWith('append ')) && a.lines.some((l) => l.startsWith('lease ')), 30_000, 'the old coordinator to learn').catch((err: Error) => {
      throw new Error(`${err.message}; its last lines: ${a.lines.slice(-5).join(' | ')}; exit ${a.proc.exitCode}`);
    });
    expect(a.lines).toContain('append E_LEASE_LOST');
    expect(a.lines).toContain('lease E_LEASE_LOST');
    if (a.proc.exitCode === null) await new Promise((res) => a.proc.once('exit', res));
    expect(a.proc.exitCode).toBe(3);
    expect(await c.xlen(keys.run('runf').journal)).toBe(len);
    await b.release();
  });

  it('a lease that expired while Redis restarted is taken back on renewal when nobody took it', async () => {
    const rr = await startRedis();
    const c = client(rr);
    const lease = await acquireLease(c, keys.run('runr'), { ttlMs: 400, renewMs: 100 });
    await rr.stop('SIGTERM');
    // Down for longer than the TTL: the persisted key is expired when Redis comes back.
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 600, 2000);
    await rr.restart();
    await waitFor(() => lease.isLost || Date.now() - t0 > 1500, 5000);
    await lease.renew();
    expect(lease.isLost).toBe(false);
    expect(JSON.parse((await c.get(keys.run('runr').lease))!)).toMatchObject({ epoch: 1 });
    await lease.release();
    await rr.destroy();
  });

  it('cluster status lists nodes and runs in progress (text and JSON) without showing the password', async () => {
    const c = client(r);
    const n1 = await registerNode(c, keys, { id: 'node-a', snapshot: () => snapshot(1), intervalMs: 200, ttlMs: 2000 });
    const n2 = await registerNode(c, keys, { id: 'node-b', snapshot: () => snapshot(0), intervalMs: 200, ttlMs: 2000 });
    const lease = await acquireLease(c, keys.run('run1'), { ttlMs: 3000, renewMs: 500 });
    await announceRun(c, keys, { format: 1, run_id: 'run1', plan: 'layers', agents: [], coordinator: { host: 'h', pid: process.pid }, started_at_ms: Date.now(), min_nodes: 2 });
    await announceRun(c, keys, { format: 1, run_id: 'run2', plan: 'orphan', agents: [], coordinator: { host: 'h', pid: 1 }, started_at_ms: Date.now(), min_nodes: 1 });
    expect((await listRuns(c, keys)).runs.map((x) => [x.announcement.run_id, x.lease?.epoch ?? null])).toEqual([['run1', 1], ['run2', null]]);

    const t = capture();
    expect(await clusterStatusCommand(['--cluster', r.url], t.io, {})).toBe(0);
    const text = t.out.join('\n');
    expect(text).toMatch(/2 nodes, 2 runs in progress/);
    expect(text).toMatch(/node-a\s+\S+\s+\d+\s+echo×2\s+1\/2/);
    expect(text).toMatch(/node-b\s+\S+\s+\d+\s+echo×2\s+0\/2/);
    expect(text).toMatch(/run1\s+layers\s+\S+:\d+\s+1\s+held/);
    expect(text).toMatch(/run2\s+orphan.*EXPIRED/);
    expect(text).not.toContain('reg-pw');
    expect(text).toContain('redis://:***@127.0.0.1');

    const j = capture();
    expect(await clusterStatusCommand(['--cluster', r.url, '--json'], j.io, {})).toBe(0);
    const status = JSON.parse(j.out.join('\n')) as { nodes: Array<{ id: string; pid: number; last_heartbeat_age_ms: number }>; runs: unknown[] };
    expect(status.nodes.map((x) => x.id)).toEqual(['node-a', 'node-b']);
    expect(status.nodes[0]!.pid).toBe(process.pid);
    expect(status.nodes[0]!.last_heartbeat_age_ms).toBeLessThan(2000);
    expect(j.out.join('\n')).not.toContain('reg-pw');

    await n1.leave();
    await n2.leave();
    await lease.release();
    await endRun(c, keys, 'run1');
    await endRun(c, keys, 'run2');
  });

  it('cluster status: bad flags exit 2, an unreachable or refusing Redis exits 1, never printing the password', async () => {
    const bad = capture();
    expect(await clusterStatusCommand([], bad.io, {})).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--cluster URL is required/);
    const bad2 = capture();
    expect(await clusterStatusCommand(['--cluster', 'http://u:topsecret@h'], bad2.io, {})).toBe(2);
    expect(bad2.err.join('\n')).not.toContain('topsecret');
    const bad3 = capture();
    expect(await clusterStatusCommand(['--cluster', 'redis://h', '--timeout-ms', 'soon'], bad3.io, {})).toBe(2);
    expect(bad3.err.join('\n')).toMatch(/--timeout-ms/);
    const bad4 = capture();
    expect(await clusterStatusCommand(['--cluster', 'redis://u:topsecret@h', '--bogus'], bad4.io, {})).toBe(2);
    expect(bad4.err.join('\n')).not.toContain('topsecret');

    const port = await freePort();
    const down = capture();
    expect(await clusterStatusCommand(['--cluster', `redis://:topsecret@127.0.0.1:${port}`, '--timeout-ms', '1000'], down.io, {})).toBe(1);
    expect(down.err.join('\n')).toMatch(/cannot read the cluster from redis:\/\/:\*\*\*@127\.0\.0\.1.*ECONNREFUSED/);
    const wrong = capture();
    expect(await clusterStatusCommand(['--cluster', `redis://:topsecret@127.0.0.1:${r.port}`], wrong.io, {})).toBe(1);
    expect(wrong.err.join('\n')).toMatch(/WRONGPASS|invalid/i);
    expect([...down.err, ...wrong.err].join('\n')).not.toContain('topsecret');
  });
});
