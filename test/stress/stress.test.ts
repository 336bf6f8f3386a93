import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readEvents, readJson, runCli, tempDir } from '../helpers.js';
import type { StressReport } from '../../src/stress/report.js';

afterAll(cleanupTempDirs);

describe('agentos stress', () => {
  it('runs 4 agents x 40 tasks with faults in a fifth of first attempts: all succeed, no orphans', async () => {
    const dir = tempDir();
    const reportFile = join(dir, 'stress.json');
    const res = await runCli(['stress', '--agents', '4', '--tasks', '40', '--fault-rate', '0.2', '--timeout-ms', '1500', '--runs-dir', join(dir, 'runs'), '--report', reportFile], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    const r = readJson<StressReport>(reportFile);
    for (const key of ['agents', 'tasks', 'succeeded', 'failed', 'restarts', 'faults_injected', 'latency_ms', 'throughput_per_s', 'spawn_all_ready_ms', 'peak_rss_mb', 'cpu_seconds', 'orphans']) {
      expect(r, key).toHaveProperty(key);
    }
    expect(r.agents).toBe(4);
    expect(r.tasks).toBe(40);
    expect(r.succeeded).toBe(40);
    expect(r.failed).toBe(0);
    expect(r.faults_injected).toBe(8);
    expect(r.orphans).toBe(0);
    // crash, hang and oom each end their process, so the kernel replaced at least one per such fault
    expect(r.restarts).toBeGreaterThanOrEqual(4);
    expect(r.retries).toBeGreaterThanOrEqual(8);
    for (const p of ['p50', 'p95', 'p99', 'max'] as const) expect(r.latency_ms[p]).toBeGreaterThanOrEqual(0);
    expect(r.latency_ms.p50!).toBeLessThanOrEqual(r.latency_ms.p99!);
    expect(r.throughput_per_s).toBeGreaterThan(0);
    expect(r.spawn_all_ready_ms).toBeGreaterThan(0);
    expect(r.peak_rss_mb.kernel).toBeGreaterThan(10);
    expect(r.peak_rss_mb.per_agent_median).toBeGreaterThan(10);
    expect(r.peak_rss_mb.agents_total).toBeGreaterThanOrEqual(r.peak_rss_mb.per_agent_median!);
    expect(r.cpu_seconds).toBeGreaterThan(0);
    // the faults were committed by real children: every injected task failed once, then succeeded
    const events = readEvents(r.run_dir);
    const injected = events.filter((e) => e.type === 'fault.injected').map((e) => e.task as string);
    expect(injected).toHaveLength(8);
    const failedTasks = new Set(events.filter((e) => e.type === 'task.failure').map((e) => e.task as string));
    for (const t of injected) expect(failedTasks.has(t), t).toBe(true);
    // every process of the run is gone, by pid
    const pids = events.filter((e) => e.type === 'process.ready').map((e) => e.pid as number);
    expect(pids.length).toBeGreaterThanOrEqual(4 + r.restarts - 1);
    await expectAllGone(pids);
    // progress went to the terminal
    expect(res.stdout).toMatch(/40\/40 done \(100%\)/);
  });

  it('a retried task waits at the head of the line, not behind the backlog', async () => {
    const dir = tempDir();
    const reportFile = join(dir, 'stress.json');
    // one agent, 20 tasks, exactly one throws on its first attempt
    const res = await runCli(['stress', '--agents', '1', '--tasks', '20', '--fault-rate', '0.05', '--faults', 'throw', '--cpu-share', '0', '--wait-ms', '50', '--runs-dir', join(dir, 'runs'), '--report', reportFile, '--quiet']);
    expect(res.exitCode, res.all).toBe(0);
    const r = readJson<StressReport>(reportFile);
    expect(r.succeeded).toBe(20);
    const events = readEvents(r.run_dir);
    const failed = events.find((e) => e.type === 'task.failure')!;
    const starts = events.filter((e) => e.type === 'task.state' && e.state === 'running');
    const failAt = starts.findIndex((e) => e.task === failed.task);
    const retryAt = starts.findIndex((e, i) => i > failAt && e.task === failed.task);
    const remaining = starts.length - failAt - 2; // fresh tasks that were still waiting when it failed
    expect(remaining).toBeGreaterThan(2);
    // its backoff (<= 10 ms) is shorter than a task (50 ms): at most the task that took the freed process
    // started before the retry; without the priority it would wait behind all the rest
    expect(retryAt - failAt).toBeLessThanOrEqual(2);
  });

  it.each([
    [['--tasks', '5'], /--agents is required/],
    [['--agents', '2'], /--tasks is required/],
    [['--agents', '0', '--tasks', '5'], /--agents must be at least 1/],
    [['--agents', 'x', '--tasks', '5'], /--agents takes a whole number/],
    [['--agents', '2', '--tasks', '5', '--fault-rate', '1.5'], /--fault-rate must be at most 1/],
    [['--agents', '2', '--tasks', '5', '--faults', 'crash,boom'], /--faults 'crash,boom'/],
    [['--agents', '2', '--tasks', '5', '--bogus'], /Unknown option '--bogus'/],
  ])('rejects bad options %j with exit 2', async (args, message) => {
    const res = await runCli(['stress', ...args]);
    expect(res.exitCode, res.all).toBe(2);
    expect(res.stderr).toMatch(message);
  });
});
