import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, ROOT, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import type { SearchResult } from '../../src/repair/search.js';
import { boundsRepo, lastRepo, trapRepo, treeHash, writeRepo } from './repos.js';

afterAll(cleanupTempDirs);

function pidsOf(report: RunReport): number[] {
  return report.agents.flatMap((a) => a.pids);
}

function patchTask(report: RunReport): SearchResult {
  return report.tasks.find((t) => t.id === 'patch')!.output as SearchResult;
}

/** Apply patch.diff with `patch -p1` to a fresh copy of the original and run its tests there. */
async function applyAndTest(original: string, diff: string, testCmd: string): Promise<number> {
  const copy = tempDir('agentos-apply-');
  cpSync(original, copy, { recursive: true });
  const p = await execa('patch', ['-p1', '-i', diff], { cwd: copy, reject: false, all: true });
  expect(p.exitCode, p.all).toBe(0);
  const t = await execa('sh', ['-c', testCmd], { cwd: copy, reject: false, all: true });
  return t.exitCode ?? -1;
}

describe('agentos repair', () => {
  it('fixes examples/buggy_math on a copy: patch.diff applies with patch -p1, the input is unchanged', async () => {
    const repo = join(ROOT, 'examples/buggy_math');
    const before = treeHash(repo);
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await runCli(['repair', repo, '--out', out, '--runs-dir', join(dir, 'runs'), '--quiet'], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    expect(treeHash(repo)).toBe(before);
    const diff = readFileSync(join(out, 'patch.diff'), 'utf8');
    expect(diff).toContain('--- a/src/stats.js');
    expect(diff).toContain('+  return (sorted[mid - 1] + sorted[mid]) / 2;');
    expect(await applyAndTest(repo, join(out, 'patch.diff'), 'node --test')).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const section of ['## Failing tests before', 'median of an even-length list', '## The fix', '## Candidates', '## Tests after', '7 passed, 0 failed']) expect(md).toContain(section);
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    const search = patchTask(report);
    expect(search.winner?.file).toBe('src/stats.js');
    // one dynamically inserted test task per candidate, the losers cancelled
    const inserted = report.tasks.filter((t) => t.dynamic && t.id.startsWith('cand-') && !t.id.endsWith('-probe'));
    expect(inserted.length).toBe(search.candidates.length);
    // The differential check ran as one more test-agent task and confirmed the fix.
    expect(report.tasks.find((t) => t.id === 'cand-a1-probe')?.state).toBe('succeeded');
    expect(search.confidence).toBe('fix');
    expect(md).toContain('- result: **FIXED**');
    expect(inserted.every((t) => t.agent === 'test_agent')).toBe(true);
    // Losers still running when the winner is known are cancelled (how many depends on timing).
    expect(search.cancelled).toBe(search.candidates.filter((c) => c.verdict === 'cancelled').length);
    await expectAllGone(pidsOf(report));
  });

  it('falls back to safe_patch_agent when patch_agent fails every attempt, with the default --max-candidates auto', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const inject = [1, 2, 3].flatMap((n) => ['--inject', `patch_agent:crash@${n}`]);
    const res = await runCli(['repair', join(ROOT, 'examples/buggy_math'), '--out', out, '--runs-dir', join(dir, 'runs'), ...inject, '--quiet'], { timeoutMs: 150_000 });
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    const search = patchTask(report);
    // The fallback's budget is 12 singles at most (not NaN from `auto`), and it finds the fix.
    expect(search.budget.singles).toBeGreaterThan(0);
    expect(search.budget.singles).toBeLessThanOrEqual(12);
    expect(search.winner?.file, res.all).toBe('src/stats.js');
    expect(report.tasks.some((t) => t.id.startsWith('safe-a'))).toBe(true);
    await expectAllGone(pidsOf(report));
  });

  it('fixes an off-by-one bound in another repository and applies it with --apply', async () => {
    const repo = writeRepo(tempDir('agentos-bounds-'), boundsRepo);
    const dir = tempDir();
    const res = await runCli(['repair', repo, '--out', join(dir, 'out'), '--runs-dir', join(dir, 'runs'), '--apply', '--quiet'], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    expect(readFileSync(join(repo, 'lib/window.js'), 'utf8')).toContain('return x >= lo && x <= hi;');
    const t = await execa('node', ['--test'], { cwd: repo, reject: false });
    expect(t.exitCode).toBe(0);
    await expectAllGone(pidsOf(readJson<RunReport>(join(dir, 'out', 'run-report.json'))));
  });

  it('fixes a wrong constant in a CommonJS project with its own --test-cmd', async () => {
    const repo = writeRepo(tempDir('agentos-last-'), lastRepo);
    const before = treeHash(repo);
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await runCli(['repair', repo, '--test-cmd', 'node check.js', '--out', out, '--runs-dir', join(dir, 'runs'), '--quiet'], { timeoutMs: 120_000 });
    expect(res.exitCode, res.all).toBe(0);
    expect(treeHash(repo)).toBe(before);
    expect(readFileSync(join(out, 'patch.diff'), 'utf8')).toContain('+  return xs[xs.length - 1];');
    expect(await applyAndTest(repo, join(out, 'patch.diff'), 'node check.js')).toBe(0);
    await expectAllGone(pidsOf(readJson<RunReport>(join(out, 'run-report.json'))));
  });

  it('kills a mutant that hangs and one that allocates without bound, counts both, and still finishes', async () => {
    const repo = writeRepo(tempDir('agentos-trap-'), trapRepo);
    const dir = tempDir();
    const out = join(dir, 'out');
    // A quota well above a test run's needs, small enough that the hog meets it long before the time limit.
    const res = await runCli(['repair', repo, '--out', out, '--runs-dir', join(dir, 'runs'), '--candidate-memory-mb', '320', '--candidate-timeout-ms', '8000', '--quiet'], { timeoutMs: 180_000 });
    expect(res.exitCode, res.all).toBe(1); // no single mutation fixes label()
    expect(existsSync(join(out, 'patch.diff'))).toBe(false);
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    const search = patchTask(report);
    const hang = search.candidates.find((c) => c.description.includes('`++` -> `--`') && c.description.startsWith('src/work.js:9'));
    const hog = search.candidates.find((c) => c.description.includes('`++` -> `--`') && c.description.startsWith('src/work.js:3'));
    expect(hang?.verdict).toBe('timeout');
    expect(hog?.verdict).toBe('memory');
    expect(search.killed.timeout).toBeGreaterThanOrEqual(1);
    expect(search.killed.memory).toBeGreaterThanOrEqual(1);
    expect(search.cancelled).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('NOT FIXED');
    expect(md).toMatch(/killed: [1-9]\d* for time .* [1-9]\d* for memory/);
    await expectAllGone(pidsOf(report));
    // The whole search space is tried (singles, then pairs) until the search's own time limit of 85 s.
  }, 200_000);

  it('rejects a missing repository with exit 2 and a message naming it', async () => {
    const res = await runCli(['repair', join(tempDir(), 'nope')]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('repository directory not found');
  });
});
