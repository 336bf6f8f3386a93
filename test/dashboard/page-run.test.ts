/**
 * `agentos run PLAN --dashboard` with the default, relative runs directory: a repair started from the page
 * afterwards must work. (It used to hand the relative directory to the page's run: agents got a relative
 * $RUN_DIR, the sandbox resolved it against the agent's own directory, and 'baseline' was denied its
 * writes.) The run is started from another working directory than the package's, as a user would.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/observe/report.js';
import { cleanupTempDirs, expectAllGone, FIXTURE_AGENTS, readJson, runPids, startCli, waitFor, writePlan } from '../helpers.js';

afterAll(() => cleanupTempDirs());

describe('runs started from the page of run --dashboard', () => {
  it('a repair started from the page after the plan run succeeds, with the relative default runs dir', { timeout: 240_000 }, async () => {
    const { dir, plan } = writePlan([{ id: 'q', agent: 'ok_agent' }], 'quick');
    const cli = startCli(['run', plan, '--agents', FIXTURE_AGENTS, '--dashboard', '0'], { cwd: dir });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += String(d)));
    const seen = (re: RegExp): boolean => re.test(out) || cli.exitCode !== null;
    try {
      await waitFor(() => seen(/still serving at http/), 60_000, 'the plan run to finish');
      const url = new URL(/dashboard: (\S+)/.exec(out)![1]!);
      const res = await fetch(`${url.origin}/api/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-agentos-token': url.searchParams.get('token')! },
        body: JSON.stringify({ goal: 'repair the failing tests' }),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      const { run_id } = (await res.json()) as { run_id: string };
      const runsDir = join(dir, '.agentos', 'runs');
      await waitFor(() => existsSync(join(runsDir, run_id, 'report.json')) || cli.exitCode !== null, 180_000, `the page's run ${run_id} to finish:\n${out}`);
      const report = readJson<RunReport>(join(runsDir, run_id, 'report.json'));
      expect(report.plan).toBe('goal:repair');
      const baseline = report.tasks.find((t) => t.id === 'baseline')!;
      expect(baseline.state, JSON.stringify(baseline.failures)).toBe('succeeded');
      expect(report.status).toBe('succeeded');
      expect(readdirSync(runsDir)).toHaveLength(2); // the plan's run and the page's, both under the cwd
      cli.kill('SIGTERM');
      expect((await cli).exitCode).toBe(0);
      await expectAllGone(runPids(report));
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
  });
});
