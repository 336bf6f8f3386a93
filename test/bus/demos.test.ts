/** `agentos demo messages` and `agentos demo kv-cache` through the real CLI, plus their bad input. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, expectAllGone, readJson, runCli, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('agentos demo messages / kv-cache', () => {
  it('demo messages: direct, pub/sub, broadcast, backpressure and restart delivery all happen', async () => {
    const cwd = tempDir();
    const res = await runCli(['demo', 'messages', '--json'], { cwd });
    expect(res.exitCode, res.all).toBe(0);
    const { status, run_dir, bus } = JSON.parse(res.stdout) as { status: string; run_dir: string; bus: NonNullable<RunReport['bus']> };
    expect(status).toBe('succeeded');
    const report = readJson<RunReport>(resolve(cwd, run_dir, 'report.json'));
    await expectAllGone(report.processes.map((p) => p.pid));
    expect(bus.messages_delivered).toBeGreaterThanOrEqual(3 + 9 + 12 + 3);
    expect(bus.topics.news).toBe(2);
    expect(bus.per_agent.slow_consumer!.max_mailbox_depth).toBeLessThanOrEqual(2);
    const out = (id: string) => report.tasks.find((t) => t.id === id)!.output as Record<string, unknown>;
    expect((out('consume').got as number[])).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect((out('rise').got as unknown[]).length).toBe(3);
    expect(out('rise').pid).not.toBe(out('deliver').crashed_pid);
  });

  it('demo kv-cache --agents 3 --json prints one object with the stats', async () => {
    const cwd = tempDir();
    const res = await runCli(['demo', 'kv-cache', '--agents', '3', '--json'], { cwd });
    expect(res.exitCode, res.all).toBe(0);
    const r = JSON.parse(res.stdout) as Record<string, number> & { pids: number[] };
    await expectAllGone(r.pids);
    expect(r.processes).toBe(3);
    for (const k of ['logical_pages', 'physical_pages', 'bytes_saved', 'cow_copies', 'prefix_hit_rate']) expect(typeof r[k]).toBe('number');
    expect(r.physical_pages).toBeLessThan(r.logical_pages);
    expect(r.bytes_saved).toBe((r.logical_pages - r.physical_pages) * r.page_bytes);
    expect(r.cow_copies).toBe(6); // 3 agents x 2 forks writing into the shared partial tail page
    expect(r.prefix_hit_rate).toBeGreaterThan(0.6); // 2 of 3 agents hit all 128 prefix blocks
    expect(r.pages_after_shutdown).toBe(0);
  });

  it('bad input: exit 2 with a message naming the flag or field', async () => {
    let res = await runCli(['demo', 'kv-cache', '--agents', 'many']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/--agents takes a whole number/);
    res = await runCli(['demo', 'messages', '--loud']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/--loud/);
    const dir = tempDir();
    mkdirSync(join(dir, 'agents', 'bad'), { recursive: true });
    writeFileSync(join(dir, 'agents', 'bad', 'handler.js'), 'export default async () => 1;\n');
    writeFileSync(join(dir, 'agents', 'bad', 'agent.yaml'), 'name: bad\nhandler: ./handler.js\nmailbox: { size: 2, policy: shout }\n');
    writeFileSync(join(dir, 'plan.yaml'), 'name: p\ntasks: [{ id: a, agent: bad }]\n');
    res = await runCli(['run', join(dir, 'plan.yaml'), '--agents', join(dir, 'agents'), '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/mailbox\.policy/);
  });
});
