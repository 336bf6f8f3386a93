/**
 * A few of the repair set's programs end to end (the whole set runs in `npm run bench:repair`): a suite
 * whose original version hangs inside one test, and a bug in a `} else if (…)` condition. Each repair
 * runs on a copy without the held-out tests; every process of the run must be gone afterwards.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, ROOT, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import type { BaselineResult } from '../../src/repair/baseline.js';
import type { SearchResult } from '../../src/repair/search.js';

afterAll(cleanupTempDirs);

const FIXTURES = join(ROOT, 'test/repair/fixtures');

function visibleCopy(name: string): string {
  const dir = tempDir(`agentos-${name}-`);
  for (const part of ['package.json', 'src', 'test']) cpSync(join(FIXTURES, name, part), join(dir, part), { recursive: true });
  return dir;
}

async function repair(name: string, extra: string[] = []) {
  const repo = visibleCopy(name);
  const dir = tempDir();
  const out = join(dir, 'out');
  const res = await runCli(['repair', repo, '--out', out, '--runs-dir', join(dir, 'runs'), '--quiet', ...extra], { timeoutMs: 160_000 });
  const report = readJson<RunReport>(join(out, 'run-report.json'));
  const task = <T>(id: string) => report.tasks.find((t) => t.id === id)!.output as T;
  return { res, report, out, base: task<BaselineResult>('baseline'), search: task<SearchResult>('patch'), md: readFileSync(join(out, 'report.md'), 'utf8') };
}

describe('repair set, end to end', () => {
  it('a test that loops forever is a failed test: the baseline says so, localises from the rest, the run ends', async () => {
    const r = await repair('ho_bsearch_hang', ['--candidate-timeout-ms', '4000']);
    expect(r.base.hung).toEqual(expect.arrayContaining(['test/search.test.js', 'test/search.test.js > finds the last element']));
    expect(r.base.failing).toEqual([expect.objectContaining({ name: 'finds the last element', hung: true })]);
    expect(r.base.tests).toEqual({ total: 3, passed: 2, failed: 1 });
    expect(r.md).toContain('hangs (killed at 4000 ms)');
    // The two tests that finished are spectra; the hanging one gave no coverage.
    expect(r.base.runs.map((x) => x.label)).toEqual(['test/search.test.js > finds the middle element', 'test/search.test.js > finds the first element']);
    // The search ran to a verdict (a fix or not), with candidates that hang killed for time.
    expect(['winner', 'exhausted', 'deadline']).toContain(r.search.stopped);
    expect(r.report.tasks.find((t) => t.id === 'baseline')!.state).toBe('succeeded');
    await expectAllGone(r.report.agents.flatMap((a) => a.pids));
  }, 170_000);

  it('fixes a boundary in a `} else if (…)` condition; the patch passes the held-out tests too', async () => {
    const r = await repair('ho_grades');
    expect(r.res.exitCode, r.res.all).toBe(0);
    expect(r.search.winner?.description).toContain('src/grade.js:5');
    expect(r.search.winner?.source).toBe('search');
    const check = visibleCopy('ho_grades');
    cpSync(join(FIXTURES, 'ho_grades/heldout'), join(check, 'heldout'), { recursive: true });
    expect((await execa('patch', ['-p1', '-i', join(r.out, 'patch.diff')], { cwd: check, reject: false })).exitCode).toBe(0);
    expect((await execa('node', ['heldout/extra.mjs'], { cwd: check, reject: false })).exitCode).toBe(0);
    expect(r.md).toMatch(/source: \*\*search \(relational\)\*\*/);
    await expectAllGone(r.report.agents.flatMap((a) => a.pids));
  }, 150_000);
});
