import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, ROOT, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';

afterAll(cleanupTempDirs);

describe('agentos run: the crash demo plan', () => {
  it('recovers an injected crash and hang, reports both, and leaves no process behind', async () => {
    const dir = tempDir();
    const reportFile = join(dir, 'report.json');
    const res = await runCli([
      'run', join(ROOT, 'examples/crash-demo/plan.yaml'), '--agents', join(ROOT, 'examples/crash-demo/agents'),
      '--inject', 'patch_agent:crash@1', '--inject', 'test_agent:hang@1',
      '--runs-dir', join(dir, 'runs'), '--report', reportFile,
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const report = readJson<RunReport>(reportFile);
    expect(report.status).toBe('succeeded');
    const patch = report.tasks.find((t) => t.id === 'patch')!;
    expect(patch.failures.map((f) => f.kind)).toEqual(['crash']);
    expect(patch.attempts).toBe(2);
    expect(patch.served_by).toBe('patch_agent');
    const test = report.tasks.find((t) => t.id === 'test')!;
    expect(test.failures.map((f) => f.kind)).toEqual(['timeout']);
    expect((report.tasks.find((t) => t.id === 'report')!.output as { fixed: boolean }).fixed).toBe(true);
    const pids = report.agents.flatMap((a) => a.pids);
    expect(report.agents.find((a) => a.name === 'patch_agent')!.pids).toHaveLength(2);
    await expectAllGone(pids);
    // the same report is in the run directory
    expect(readJson<RunReport>(join(report.run_dir, 'report.json')).run_id).toBe(report.run_id);
  });
});
