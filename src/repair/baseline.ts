/**
 * The baseline: the suite on the untouched copy, with V8 coverage, for fault localisation. It never runs
 * the suite inside its own process: every test file of a `node --test` suite runs in its own test-agent
 * task under a time limit, then each test of a failing (or hanging) file alone, so a test that loops
 * forever is a failed test (reported as hanging) instead of a stalled baseline, and the tests that
 * finished still localise the fault. Other runners get one task for the whole suite, under the suite
 * time limit. Runs in the test_agent process that holds the `baseline` task.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fullAncestor } from 'acorn-walk';
import { isTestFile, listJsFiles, usesNodeTestRunner } from './repo.js';
import { parseJs, type AnyNode } from './ast.js';
import { parseTap, type TapTest } from './tap.js';
import type { SearchCtx } from './ctx-types.js';

/** One run of a test command: exit code, wall time, output. */
export interface SpectrumOutput {
  code: number | null;
  ms: number;
  output: string;
}

export interface SpectrumRun {
  label: string;
  failed: boolean;
  covDir: string;
}

export interface BaselineResult {
  ok: boolean;
  exit_code: number | null;
  /** Time of the runs that finished (ms), the base of a candidate's time limit. */
  ms: number;
  tests: { total: number; passed: number; failed: number };
  failing: Array<Pick<TapTest, 'name' | 'location' | 'error' | 'frames'> & { hung?: boolean }>;
  runs: SpectrumRun[];
  /** Runs that were killed at their time limit: the suite (or these tests) hang. */
  hung: string[];
  /** Runs that died otherwise (memory quota, crash of the runner). */
  crashed: string[];
  /** One line for the report: how the baseline went. */
  note: string;
  /** Test files, the failing ones first (candidates run those first to fail fast). */
  test_files: string[];
  failing_files: string[];
  per_test: boolean;
  output_tail: string;
}

export interface BaselineInput {
  repo: string;
  testCmd: string;
  covRoot: string;
  /** Limit of one test file's or one test's run (ms); default 20000. */
  testTimeoutMs?: number | undefined;
  /** Limit of the whole suite's run for runners other than node --test (ms); default 80000. */
  suiteTimeoutMs?: number | undefined;
}

type Ctx = Pick<SearchCtx, 'spawn' | 'wait' | 'task' | 'log'>;
interface Finished {
  id: string;
  label: string;
  covDir: string;
  out: SpectrumOutput | null;
  /** 'ok' (ran to its exit), 'timeout', or how the run died. */
  end: string;
}

const MAX_TEST_RUNS = 40;
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Test names a file declares (`test('…')`, `it('…')`, with string literal names): for a file that hung. */
export function declaredTests(source: string): string[] {
  const names: string[] = [];
  try {
    fullAncestor(parseJs(source), (raw) => {
      const n = raw as AnyNode;
      if (n.type !== 'CallExpression') return;
      const c = n.callee as AnyNode;
      const name = c.type === 'Identifier' ? c.name : c.type === 'MemberExpression' ? (c.object as AnyNode).name : undefined;
      const arg = (n.arguments as AnyNode[])[0];
      if ((name === 'test' || name === 'it') && arg?.type === 'Literal' && typeof arg.value === 'string') names.push(arg.value);
    });
  } catch {
    // a test file that does not parse declares nothing we can run alone
  }
  return names;
}

async function runAll(ctx: Ctx, jobs: Array<{ label: string; cmd: string; covDir: string }>, repo: string, timeoutMs: number, tag: string): Promise<Finished[]> {
  const ids: string[] = [];
  for (const [i, j] of jobs.entries()) {
    const id = `${ctx.task.id}-${tag}${ctx.task.attempt}-${String(i + 1).padStart(2, '0')}`;
    mkdirSync(j.covDir, { recursive: true });
    await ctx.spawn({ id, agent: 'test_agent', deps: [], input: { mode: 'spectrum', repo, cmd: j.cmd, covDir: j.covDir }, timeout_ms: timeoutMs });
    ids.push(id);
  }
  if (ids.length === 0) return [];
  const answer = (await ctx.wait({ tasks: ids, until: 'all' })) as { tasks: Array<{ id: string; state: string; output: unknown; error: { kind: string } | null; failures: Array<{ kind: string }> }> };
  return answer.tasks.map((t, i) => ({
    id: t.id,
    label: jobs[i]!.label,
    covDir: jobs[i]!.covDir,
    out: t.state === 'succeeded' ? (t.output as SpectrumOutput) : null,
    end: t.state === 'succeeded' ? 'ok' : (t.failures[t.failures.length - 1]?.kind ?? t.error?.kind ?? 'error'),
  }));
}

export async function baseline(input: BaselineInput, ctx: Ctx): Promise<BaselineResult> {
  const { repo, testCmd, covRoot } = input;
  const testTimeout = input.testTimeoutMs ?? 20_000;
  const res: BaselineResult = { ok: false, exit_code: null, ms: 0, tests: { total: 0, passed: 0, failed: 0 }, failing: [], runs: [], hung: [], crashed: [], note: '', test_files: [], failing_files: [], per_test: false, output_tail: '' };
  if (!usesNodeTestRunner(repo, testCmd)) {
    const limit = input.suiteTimeoutMs ?? 80_000;
    const [r] = await runAll(ctx, [{ label: 'whole suite', cmd: testCmd, covDir: join(covRoot, 'suite') }], repo, limit, 's');
    if (r!.out) {
      const tap = parseTap(r!.out.output);
      Object.assign(res, { ok: r!.out.code === 0, exit_code: r!.out.code, ms: r!.out.ms, tests: counts(tap, r!.out.code), output_tail: r!.out.output.slice(-4000) });
      res.failing = tap.tests.filter((t) => !t.ok).map(({ name, location, error, frames }) => ({ name, location, error, frames }));
      res.runs = [{ label: 'whole suite', failed: r!.out.code !== 0, covDir: r!.covDir }];
    } else {
      (r!.end === 'timeout' ? res.hung : res.crashed).push('whole suite');
      res.tests = { total: 1, passed: 0, failed: 1 };
      res.ms = limit;
    }
    res.note = r!.out ? `whole suite in one run (limit ${limit} ms)` : `the whole suite ${r!.end === 'timeout' ? `hangs: killed at its limit of ${limit} ms` : `died (${r!.end})`}; no coverage, every source line is a suspect`;
    return res;
  }
  // node --test: each file in its own task, run directly (one process: node runs its tests in-process).
  const files = listJsFiles(repo).filter(isTestFile).slice(0, MAX_TEST_RUNS);
  res.test_files = files;
  const perFile = await runAll(ctx, files.map((f, i) => ({ label: f, cmd: `node ${quote(f)}`, covDir: join(covRoot, `file-${i + 1}`) })), repo, testTimeout, 'f');
  const failingFiles: Array<{ file: string; names: string[] }> = [];
  let outputs = '';
  for (const [i, r] of perFile.entries()) {
    const file = files[i]!;
    if (!r.out) {
      (r.end === 'timeout' ? res.hung : res.crashed).push(file);
      failingFiles.push({ file, names: declaredTests(readFileSync(join(repo, file), 'utf8')) });
      continue;
    }
    res.ms += r.out.ms;
    outputs += r.out.output;
    const tap = parseTap(r.out.output);
    const c = counts(tap, r.out.code);
    res.tests.passed += c.passed;
    res.tests.failed += c.failed;
    res.runs.push({ label: file, failed: r.out.code !== 0, covDir: r.covDir });
    if (r.out.code !== 0) {
      failingFiles.push({ file, names: tap.tests.map((t) => t.name) });
      for (const t of tap.tests.filter((x) => !x.ok)) res.failing.push({ name: t.name, location: t.location, error: t.error, frames: t.frames });
    }
  }
  res.failing_files = failingFiles.map((f) => f.file);
  res.test_files = [...res.failing_files, ...files.filter((f) => !res.failing_files.includes(f))];
  res.output_tail = outputs.slice(-4000);
  // Finer spectra: each test of a failing or hanging file alone.
  const jobs = failingFiles.flatMap(({ file, names }) => [...new Set(names)].map((name) => ({ label: `${file} > ${name}`, cmd: `node --test-name-pattern=${quote(`^${escapeRe(name)}$`)} ${quote(file)}`, covDir: '', file, name })));
  const single = await runAll(ctx, jobs.slice(0, MAX_TEST_RUNS).map((j, i) => ({ ...j, covDir: join(covRoot, `test-${i + 1}`) })), repo, testTimeout, 't');
  const perTest: SpectrumRun[] = [];
  for (const [i, r] of single.entries()) {
    const j = jobs[i]!;
    if (r.out) {
      perTest.push({ label: r.label, failed: r.out.code !== 0, covDir: r.covDir });
      // A file that hung reported nothing: its finished tests are counted here.
      if (res.hung.includes(j.file) || res.crashed.includes(j.file)) {
        const t = parseTap(r.out.output).tests.find((x) => x.name === j.name);
        if (r.out.code === 0) res.tests.passed++;
        else {
          res.tests.failed++;
          res.failing.push({ name: j.name, location: t?.location, error: t?.error ?? `exit ${r.out.code}`, frames: t?.frames ?? [] });
        }
      }
    } else {
      (r.end === 'timeout' ? res.hung : res.crashed).push(r.label);
      res.tests.failed++;
      res.failing.push({ name: j.name, location: j.file, error: r.end === 'timeout' ? `did not finish within ${testTimeout} ms (hangs)` : `its run died (${r.end})`, frames: [], hung: r.end === 'timeout' });
    }
  }
  res.tests.total = res.tests.passed + res.tests.failed;
  res.ok = res.tests.failed === 0 && res.hung.length === 0 && res.crashed.length === 0;
  res.exit_code = res.ok ? 0 : 1;
  res.per_test = perTest.length > 0;
  // Per-test spectra replace their file's run (a file that hung has none); the hung tests have none either.
  if (perTest.some((r) => r.failed) || res.hung.length + res.crashed.length > 0) res.runs = [...res.runs.filter((r) => !res.failing_files.includes(r.label)), ...perTest];
  const broken = [...res.hung.map((h) => `${h} hangs (killed at ${testTimeout} ms)`), ...res.crashed.map((c) => `${c} died`)];
  res.note = `${files.length} test file(s), each in its own test task (limit ${testTimeout} ms), then ${single.length} test(s) of failing files alone${broken.length ? `; ${broken.join('; ')}` : ''}`;
  if (res.ok) res.note = `all ${files.length} test file(s) pass`;
  void ctx.log;
  return res;
}

export function counts(tap: ReturnType<typeof parseTap>, exitCode: number | null): BaselineResult['tests'] {
  const failed = tap.fail ?? tap.tests.filter((t) => !t.ok).length;
  const passed = tap.pass ?? tap.tests.filter((t) => t.ok).length;
  return { total: passed + failed, passed, failed: failed === 0 && exitCode !== 0 ? 1 : failed };
}
