/**
 * The test agent's runs: one spectrum run (a command with V8 coverage, for the baseline) and candidate
 * runs (copy, apply one patch, run the tests). Runs inside the test_agent process; the kernel bounds its
 * time and memory, so a run that hangs or eats memory ends with the process, as a failed task.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyRepo, isTestFile, runShell } from './repo.js';
import { applyMutant } from './mutate.js';
import { parseTap } from './tap.js';
import { counts, type BaselineResult } from './baseline.js';

export { baseline, type BaselineResult, type SpectrumRun } from './baseline.js';

export type { SpectrumOutput } from './baseline.js';
import type { SpectrumOutput } from './baseline.js';

/** Run one command in the repository with V8 coverage written to `covDir`. */
export async function spectrumRun(input: { repo: string; cmd: string; covDir: string }): Promise<SpectrumOutput> {
  const r = await runShell(input.cmd, input.repo, { NODE_V8_COVERAGE: input.covDir });
  return { code: r.code, ms: r.ms, output: r.output };
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
  /** The whole suite passes, with no fewer tests than the baseline ran. */
  pass: boolean;
  /** Always true: lets the search wait for the first candidate that finished (see search.ts). */
  done: true;
  exit_code: number | null;
  ms: number;
  tests: { total: number; passed: number; failed: number };
  /** Which stage decided: the failing test files alone, or the whole test command. */
  stage: 'failing_files' | 'suite';
  /** Set when the suite passed but ran fewer tests than the baseline: a weakened suite is no fix. */
  weakened: boolean;
  dir: string;
  output_tail: string;
}

export interface CandidateInput {
  repo: string;
  dir: string;
  mutant: MutantRef | null;
  testCmd: string;
  /** Test files that failed in the baseline (node --test suites): run first, each directly, to fail fast. */
  failingFiles?: string[] | undefined;
  /** Tests the baseline counted: a candidate whose suite runs fewer is not a fix. */
  baselineTests?: number | undefined;
}

/** Copy the repo to `dir`, apply the patch (none: the original), run the failing files, then the suite. */
export async function runCandidate(input: CandidateInput): Promise<CandidateResult> {
  const { repo, dir, mutant, testCmd } = input;
  copyRepo(repo, dir);
  if (mutant) {
    // The search never edits tests; a model might try. A patch to a test file is no fix.
    if (isTestFile(mutant.file)) throw new Error(`candidate ${mutant.id} edits the test file ${mutant.file}: refused`);
    const file = join(dir, mutant.file);
    const source = readFileSync(file, 'utf8');
    if (mutant.end > source.length || mutant.start > mutant.end) throw new Error(`mutant ${mutant.id} does not fit ${mutant.file}`);
    writeFileSync(file, applyMutant(source, mutant));
  }
  let ms = 0;
  for (const f of input.failingFiles ?? []) {
    const r = await runShell(`node '${f.replace(/'/g, `'\\''`)}'`, dir);
    ms += r.ms;
    if (r.code !== 0) {
      const tap = parseTap(r.output);
      return { candidate: mutant?.id ?? 'original', pass: false, done: true, exit_code: r.code, ms, tests: counts(tap, r.code), stage: 'failing_files', weakened: false, dir, output_tail: r.output.slice(-2000) };
    }
  }
  const r = await runShell(testCmd, dir);
  const tap = parseTap(r.output);
  const tests = counts(tap, r.code);
  const weakened = r.code === 0 && input.baselineTests !== undefined && tap.tests.length + (tap.pass ?? 0) > 0 && tests.total < input.baselineTests;
  return { candidate: mutant?.id ?? 'original', pass: r.code === 0 && !weakened, done: true, exit_code: r.code, ms: ms + r.ms, tests, stage: 'suite', weakened, dir, output_tail: r.output.slice(-2000) };
}

export type { BaselineResult as Baseline };
