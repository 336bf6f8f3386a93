import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, ROOT, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import { classifyGoal, planGoal, type PlanContext } from '../../src/repair/planner.js';
import { scanRepo } from '../../src/repair/scan.js';

afterAll(cleanupTempDirs);

const ctx: PlanContext = { repo: '/r', work: '/w', out: '/o', testCmd: 'npm test', maxCandidates: 10, shards: [['a'], ['b', 'c'], ['d']] };

describe('planner', () => {
  it('classifies goals', () => {
    expect(classifyGoal('fix the failing tests in ./lib')).toBe('repair');
    expect(classifyGoal('Repair examples/buggy_math')).toBe('repair');
    expect(classifyGoal('scan this repository')).toBe('scan');
    expect(classifyGoal('analyse the code base')).toBe('scan');
    expect(classifyGoal('write a status report on the project')).toBe('report');
    expect(classifyGoal('make coffee')).toBeUndefined();
  });

  it('plans a repair as a chain after the planner, the report after everything', () => {
    const tasks = planGoal('repair', 'fix it', ctx);
    expect(tasks.map((t) => [t.id, t.agent, t.deps])).toEqual([
      ['baseline', 'test_agent', ['plan']],
      ['analyze', 'analyzer', ['baseline']],
      ['patch', 'patch_agent', ['analyze', 'baseline']],
      ['test', 'test_agent', ['patch', 'baseline']],
      ['report', 'report_agent', ['baseline', 'analyze', 'patch', 'test']],
    ]);
  });

  it('fans a scan out over shards and merges them', () => {
    const tasks = planGoal('scan', 'scan', ctx);
    const scans = tasks.filter((t) => t.agent === 'analyzer');
    expect(scans).toHaveLength(3);
    expect(scans.every((t) => t.deps.length === 1 && t.deps[0] === 'plan')).toBe(true);
    expect(scans.map((t) => t.input.only)).toEqual(ctx.shards);
    expect(tasks.at(-1)).toMatchObject({ id: 'report', agent: 'report_agent', deps: ['scan-1', 'scan-2', 'scan-3'] });
  });

  it('runs the scan and the test suite of a report goal in parallel', () => {
    const tasks = planGoal('report', 'report', ctx);
    expect(tasks.map((t) => [t.id, t.deps])).toEqual([['scan', ['plan']], ['tests', ['plan']], ['report', ['scan', 'tests']]]);
  });

  it('agentos run --goal prints the plan first, then runs it (scan goal, read-only)', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await runCli(['run', '--goal', 'scan examples/buggy_math', '--out', out, '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(0);
    const planAt = res.stdout.indexOf('PLAN (scan');
    const scanRun = res.stdout.search(/task {5}scan-1 +running/);
    expect(planAt).toBeGreaterThan(0);
    expect(scanRun).toBeGreaterThan(planAt);
    expect(res.stdout).toMatch(/5 files, \d+ lines/);
    expect(res.stdout).toContain('tests: 2 file(s)');
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  });

  it('agentos run --goal "report ..." scans and runs the tests', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await runCli(['run', '--goal', 'report on examples/buggy_math', '--out', out, '--runs-dir', join(dir, 'runs')]);
    expect(res.exitCode, res.all).toBe(0);
    expect(res.stdout).toContain('PLAN (report');
    expect(res.stdout).toMatch(/test suite: FAILS \(6 passed, 1 failed/);
  });

  it('refuses a goal it cannot classify with exit 2', async () => {
    const res = await runCli(['run', '--goal', 'make coffee', '--repo', ROOT]);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('--goal');
  });
});

describe('repository scan', () => {
  it('counts files, languages, tests and TODOs, skips node_modules and refuses symlinks leaving the root', () => {
    const root = tempDir('agentos-scan-');
    const outside = tempDir('agentos-outside-');
    writeFileSync(join(outside, 'secret.js'), 'x\n');
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(root, 'node_modules/dep/index.js'), 'ignored\n');
    writeFileSync(join(root, 'src/a.js'), '// TODO: tidy\nexport const a = 1;\n');
    writeFileSync(join(root, 'src/a.test.js'), 'test\n');
    writeFileSync(join(root, 'README.md'), '# r\n\nFIXME later\n');
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(join(root, 'src'), join(root, 'inner'));
    const s = scanRepo(root);
    expect(s.files).toBe(3);
    expect(s.languages.map((l) => l.language).sort()).toEqual(['JavaScript', 'Markdown']);
    expect(s.tests).toEqual(['src/a.test.js']);
    expect(s.todos.map((t) => `${t.file}:${t.line}`).sort()).toEqual(['README.md:3', 'src/a.js:1']);
    expect(s.refused_symlinks.map((r) => r.path)).toEqual(['escape']);
  });
});
