/**
 * Backpressure from the kernel's sinks to the agent (docs/protocol.md "Backpressure"): an agent logging
 * 200 MiB through ctx.log while the kernel's progress lines go to a pipe that is read slowly. The kernel
 * pauses reading the agent's channel while the pipe is behind, so the agent slows down and the kernel's
 * peak RSS (VmHWM of the kernel, a child process here) stays under a fixed bound; the run succeeds.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { CLI, cleanupTempDirs, expectAllGone, FIXTURE_AGENTS, readJson, runPids, writePlan } from '../helpers.js';

afterAll(cleanupTempDirs);

/** Peak resident memory of a live process in MiB (VmHWM), or undefined once it is gone. */
function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bounds on the kernel's peak: a fixed one, far below the 200 MiB logged (before the kernel paused for its
 * sinks: 638 MiB), and growth over the same run with 1 MiB of logs (the kernel's own footprint, ~100 MiB;
 * what is left above it is V8 garbage between collections, more of it on a loaded machine).
 */
const KERNEL_PEAK_BOUND_MB = 250;
const KERNEL_GROWTH_BOUND_MB = 100;

/** Run one log_flood_agent task of `mb` MiB through the CLI with a slow reader of its stdout. */
async function flood(mb: number): Promise<{ peak: number; report: RunReport; kernelPid: number }> {
  const { dir, plan } = writePlan([{ id: 'flood', agent: 'log_flood_agent', input: { mb } }]);
  const reportFile = join(dir, 'report.json');
  const kernel = spawn(process.execPath, [CLI, 'run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let peak = 0;
  let stderr = '';
  kernel.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  // A slow reader: one chunk, then a pause of a few ms; the pipe fills and the kernel must wait for it.
  kernel.stdout.on('data', () => {
    const p = peakRssMb(kernel.pid!);
    if (p !== undefined) peak = Math.max(peak, p);
    kernel.stdout.pause();
    setTimeout(() => kernel.stdout.resume(), 4);
  });
  const code = await new Promise<number | null>((resolve) => kernel.once('exit', (c) => resolve(c)));
  expect(code, stderr).toBe(0);
  expect(existsSync(reportFile)).toBe(true);
  const report = readJson<RunReport>(reportFile);
  expect(report.tasks[0]!.output).toEqual({ lines: Math.ceil((mb * 1024 * 1024) / 8000) });
  expect(peak).toBeGreaterThan(0);
  return { peak, report, kernelPid: kernel.pid! };
}

describe('a log flood slows the agent, never grows the kernel', () => {
  it('200 MiB through ctx.log with a slow reader of the progress lines: the run succeeds, kernel peak RSS stays bounded', async () => {
    const small = await flood(1);
    const big = await flood(200);
    console.log(`kernel peak RSS: ${small.peak.toFixed(1)} MiB with 1 MiB of logs, ${big.peak.toFixed(1)} MiB with 200 MiB`);
    expect(big.peak, 'kernel peak RSS (MiB) with 200 MiB of logs').toBeLessThan(KERNEL_PEAK_BOUND_MB);
    expect(big.peak - small.peak, 'growth of the kernel peak (MiB) from 1 to 200 MiB of logs').toBeLessThan(KERNEL_GROWTH_BOUND_MB);
    await expectAllGone([small.kernelPid, big.kernelPid, ...runPids(small.report), ...runPids(big.report)]);
  }, 300_000);
});
