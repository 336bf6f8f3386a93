/**
 * The analyzer's fault localisation: the baseline's coverage spectra and failing stacks become a ranked
 * list of suspicious source lines (test files are never suspects: the search repairs code, not tests).
 */
import { relative, sep } from 'node:path';
import { executedLines } from './coverage.js';
import { localise, type SuspiciousLine } from './localise.js';
import { isTestFile, sourceFiles } from './repo.js';
import type { BaselineResult } from './test-run.js';

export interface Analysis {
  failing: BaselineResult['failing'];
  suspicious: SuspiciousLine[];
  source_files: string[];
  spectra: number;
  method: string;
}

export function analyse(repo: string, base: BaselineResult, top = 60): Analysis {
  const keep = (rel: string): boolean => !isTestFile(rel);
  const runs = base.runs.map((r) => ({ label: r.label, failed: r.failed, lines: executedLines(r.covDir, repo, keep) }));
  const stack: string[] = [];
  for (const f of base.failing) {
    for (const fr of f.frames) {
      const i = fr.lastIndexOf(':');
      const rel = relative(repo, fr.slice(0, i)).split(sep).join('/');
      if (!rel.startsWith('..') && keep(rel)) stack.push(`${rel}:${fr.slice(i + 1)}`);
    }
  }
  const suspicious = localise(runs, stack).slice(0, top);
  const perTest = base.runs.length > 1;
  const hung = base.hung.length + base.crashed.length > 0 ? `; runs that hung or died give no coverage: ${[...base.hung, ...base.crashed].join(', ')}` : '';
  return {
    failing: base.failing,
    suspicious,
    source_files: sourceFiles(repo),
    spectra: runs.length,
    method: `${perTest ? `Ochiai over ${runs.length} test runs (per file, per test in failing files) + stack frames` : 'lines executed by the failing suite run + stack frames'}${hung}${suspicious.length === 0 ? '; no suspects: every line of every source file is a candidate site' : ''}`,
  };
}
