/**
 * The test agent's work: the baseline run (the suite on the untouched copy, then per file and per failing
 * file's test, each with V8 coverage, for fault localisation) and candidate runs (copy, apply one
 * mutant, run the whole suite). Runs inside the test_agent process; the kernel bounds its time and memory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyRepo, isTestFile, listJsFiles, runShell, usesNodeTestRunner } from './repo.js';
import { applyMutant } from './mutate.js';
import { parseTap, type TapTest } from './tap.js';

export interface SpectrumRun {
  label: string;
  failed: boolean;
  covDir: string;
}

export interface BaselineResult {
  ok: boolean;
  exit_code: number | null;
  ms: number;
  tests: { total: number; passed: number; failed: number };
  failing: Array<Pick<TapTest, 'name' | 'location' | 'error' | 'frames'>>;
  runs: SpectrumRun[];
  output_tail: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const MAX_TEST_RUNS = 40;

function counts(tap: ReturnType<typeof parseTap>, exitCode: number | null): BaselineResult['tests'] {
  const failed = tap.fail ?? tap.tests.filter((t) => !t.ok).length;
  const passed = tap.pass ?? tap.tests.filter((t) => t.ok).length;
  return { total: passed + failed, passed, failed: failed === 0 && exitCode !== 0 ? 1 : failed };
}

export async function baseline(input: { repo: string; testCmd: string; covRoot: string }): Promise<BaselineResult> {
  const { repo, testCmd, covRoot } = input;
  const suiteCov = join(covRoot, 'suite');
  mkdirSync(suiteCov, { recursive: true });
  const whole = await runShell(testCmd, repo, { NODE_V8_COVERAGE: suiteCov });
  const tap = parseTap(whole.output);
  const result: BaselineResult = {
    ok: whole.code === 0,
    exit_code: whole.code,
    ms: whole.ms,
    tests: counts(tap, whole.code),
    failing: tap.tests.filter((t) => !t.ok).map(({ name, location, error, frames }) => ({ name, location, error, frames })),
    runs: [{ label: 'whole suite', failed: whole.code !== 0, covDir: suiteCov }],
    output_tail: whole.output.slice(-4000),
  };
  if (result.ok || !usesNodeTestRunner(repo, testCmd)) return result;
  // Finer spectra: each test file; inside a failing file, each test on its own.
  const runs: SpectrumRun[] = [];
  let n = 0;
  for (const file of listJsFiles(repo).filter(isTestFile)) {
    if (n >= MAX_TEST_RUNS) break;
    const cov = join(covRoot, `run-${++n}`);
    mkdirSync(cov, { recursive: true });
    const r = await runShell(`node --test ${quote(file)}`, repo, { NODE_V8_COVERAGE: cov });
    if (r.code === 0) {
      runs.push({ label: file, failed: false, covDir: cov });
      continue;
    }
    const fileTap = parseTap(r.output);
    if (fileTap.tests.length === 0) {
      runs.push({ label: file, failed: true, covDir: cov });
      continue;
    }
    const jobs = fileTap.tests.slice(0, Math.max(0, MAX_TEST_RUNS - n)).map((t) => {
      const tc = join(covRoot, `run-${++n}`);
      mkdirSync(tc, { recursive: true });
      return { t, tc };
    });
    // Two at a time: each is a short Node start-up, and the machine may have only two cores.
    for (let i = 0; i < jobs.length; i += 2) {
      const batch = jobs.slice(i, i + 2);
      const done = await Promise.all(batch.map(({ t, tc }) => runShell(`node --test --test-name-pattern=${quote(`^${escapeRe(t.name)}$`)} ${quote(file)}`, repo, { NODE_V8_COVERAGE: tc })));
      batch.forEach(({ t, tc }, k) => runs.push({ label: `${file} > ${t.name}`, failed: done[k]!.code !== 0, covDir: tc }));
    }
  }
  if (runs.some((r) => r.failed)) result.runs = runs;
  return result;
}

export interface MutantRef {
  id: string;
  file: string;
  start: number;
  end: number;
  replacement: string;
  description: string;
}

export interface CandidateResult {
  candidate: string;
  pass: boolean;
  exit_code: number | null;
  ms: number;
  tests: { total: number; passed: number; failed: number };
  dir: string;
  output_tail: string;
}

/** Copy the repo to `dir`, apply the mutant (none: the original), run the whole suite there. */
export async function runCandidate(input: { repo: string; dir: string; mutant: MutantRef | null; testCmd: string }): Promise<CandidateResult> {
  const { repo, dir, mutant, testCmd } = input;
  copyRepo(repo, dir);
  if (mutant) {
    const file = join(dir, mutant.file);
    const source = readFileSync(file, 'utf8');
    if (mutant.end > source.length || mutant.start > mutant.end) throw new Error(`mutant ${mutant.id} does not fit ${mutant.file}`);
    writeFileSync(file, applyMutant(source, mutant));
  }
  const r = await runShell(testCmd, dir);
  const tap = parseTap(r.output);
  return { candidate: mutant?.id ?? 'original', pass: r.code === 0, exit_code: r.code, ms: r.ms, tests: counts(tap, r.code), dir, output_tail: r.output.slice(-2000) };
}
