/**
 * Redis stopped with SIGTERM (append-only file flushed) and started again on the same port mid-run: the
 * nodes and the coordinator reconnect by themselves and the run completes, every task succeeded once.
 * Attempts whose locks expired during the outage come back as `node_lost` and run again; that is allowed.
 * Skipped with a notice without redis-server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentos, AGENTS, layeredPlan, markers, startNode, stopAll, until } from './lab.js';
import { redisServerPath, startRedis, stopAllRedis, type RedisServer } from './redis.js';

const REDIS = redisServerPath();

describe.skipIf(!REDIS)('cluster mode: Redis restarted mid-run', () => {
  let redis: RedisServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agentos-cluster-rr-'));
    redis = await startRedis();
    await Promise.all(['r1', 'r2'].map((id) => startNode(redis.url, id, dir)));
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    await stopAllRedis();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM + restart of redis-server (appendonly yes): the run completes', async () => {
    const marks = join(dir, 'rr.marks');
    const plan = join(dir, 'rr.yaml');
    const ids = layeredPlan(plan, { layers: 4, width: 4, ms: 300, marker: marks });
    const cl = agentos(['run', plan, '--cluster', redis.url, '--min-nodes', '2', '--agents', AGENTS, '--json', '--quiet', '--runs-dir', join(dir, 'runs'), '--lock-ms', '1000', '--stall-ms', '500'], dir);
    await until('a layer has finished', () => markers(marks).filter((m) => m.what === 'done').length >= 4);
    await redis.restart('SIGTERM');
    const done = await cl.exited;
    expect(done.code, cl.err()).toBe(0);
    const r = JSON.parse(cl.out()) as { status: string; tasks: Array<{ id: string; state: string; failures: Array<{ kind: string }> }> };
    expect(r.status).toBe('succeeded');
    expect(r.tasks.map((t) => t.id).sort()).toEqual([...ids].sort());
    for (const t of r.tasks) expect(t.failures.every((f) => f.kind === 'node_lost')).toBe(true);
    // The coordinator said it lost Redis and had it back: never silent.
    expect(cl.err()).toMatch(/Redis connection lost/);
  }, 60_000);
});
