import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';

afterAll(cleanupTempDirs);

describe('agentos demo (the repair demo)', () => {
  it('repairs a copy of buggy_math through a patch_agent crash and shows every part of the run', async () => {
    const cwd = tempDir(); // the demo's run directory goes under the working directory
    const res = await runCli(['demo'], { cwd, timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    const out = res.stdout;
    for (const part of [
      'PLAN (repair',
      "injecting 'crash' into patch_agent",
      'crash: process killed by SIGABRT',
      'retry    patch',
      '+ inserted cand-a2-001 on test_agent',
      'direct message',
      'broadcast the outcome',
      'PEAK RSS MB',
      'bus: ',
      'context: ',
      'resources: CPU',
      'FIXED: src/stats.js:15',
      '+  return (sorted[mid - 1] + sorted[mid]) / 2;',
    ]) expect(out).toContain(part);
    const outDir = /patch and report: (\S+)/.exec(out)![1]!;
    expect(outDir.startsWith(cwd)).toBe(true);
    const report = readJson<RunReport>(join(outDir, 'run-report.json'));
    expect(report.tasks.find((t) => t.id === 'patch')!.failures.map((f) => f.kind)).toEqual(['crash']);
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  });
});
