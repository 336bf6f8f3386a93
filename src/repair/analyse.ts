/**
 * The analyzer's fault localisation: the baseline's coverage spectra and failing stacks become a ranked
 * list of suspicious source lines (test files are never suspects: the search repairs code, not tests).
 */
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fullAncestor } from 'acorn-walk';
import { parseJs, type AnyNode } from './ast.js';
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
  let suspicious = localise(runs, stack).slice(0, top);
  // Only hanging (or dead) runs failed: they left no coverage. A test that never ends is most likely
  // stuck in a loop, so loop lines lead; other lines the finished tests ran come next.
  if (base.hung.length + base.crashed.length > 0 && !runs.some((r) => r.failed && r.lines.size > 0)) suspicious = hangSuspects(repo, runs.map((r) => r.lines));
  const perTest = base.runs.length > 1;
  const hung = base.hung.length + base.crashed.length > 0 ? `; runs that hung or died give no coverage: ${[...base.hung, ...base.crashed].join(', ')}${runs.some((r) => r.failed && r.lines.size > 0) ? '' : ' — only hanging runs failed, so the lines where a loop makes progress lead (0.9), then other loop lines (0.6), then lines the finished tests ran (0.3), then the rest (0.1)'}` : '';
  return {
    failing: base.failing,
    suspicious,
    source_files: sourceFiles(repo),
    spectra: runs.length,
    method: `${perTest ? `Ochiai over ${runs.length} test runs (per file, per test in failing files) + stack frames` : 'lines executed by the failing suite run + stack frames'}${hung}${suspicious.length === 0 ? '; no suspects: every line of every source file is a candidate site' : ''}`,
  };
}

const LOOPS = new Set(['ForStatement', 'ForOfStatement', 'ForInStatement', 'WhileStatement', 'DoWhileStatement']);

/**
 * Suspects when the only failures hung: lines where a loop makes progress (writes a variable its
 * condition reads) 0.9, other loop lines 0.6, other lines the finished tests ran 0.3, the rest 0.1.
 */
export function hangSuspects(repo: string, executed: Array<Map<string, Set<number>>>, maxFiles = 20): SuspiciousLine[] {
  const out: SuspiciousLine[] = [];
  for (const file of sourceFiles(repo).slice(0, maxFiles)) {
    let source: string;
    try {
      source = readFileSync(join(repo, file), 'utf8');
    } catch {
      continue;
    }
    const lines = source.split('\n');
    const inLoop = new Set<number>();
    const progress = new Set<number>();
    const lineAt = (off: number): number => source.slice(0, off).split('\n').length;
    try {
      fullAncestor(parseJs(source), (raw) => {
        const n = raw as AnyNode;
        if (!LOOPS.has(n.type)) return;
        for (let l = lineAt(n.start); l <= lineAt(n.end); l++) inLoop.add(l);
        // The loop's progress: writes to a variable its condition reads (the usual cause of a hang).
        const test = n.test as AnyNode | null;
        if (!test) return;
        const reads = new Set<string>();
        fullAncestor(test, (x) => {
          if ((x as AnyNode).type === 'Identifier') reads.add((x as AnyNode).name as string);
        });
        fullAncestor(n, (x) => {
          const w = x as AnyNode;
          const target = w.type === 'AssignmentExpression' ? (w.left as AnyNode) : w.type === 'UpdateExpression' ? (w.argument as AnyNode) : null;
          if (target?.type === 'Identifier' && reads.has(target.name as string)) progress.add(lineAt(w.start));
        });
      });
    } catch {
      continue; // not JavaScript acorn reads: nothing to mutate there either
    }
    const ran = new Set(executed.flatMap((m) => [...(m.get(file) ?? [])]));
    lines.forEach((text, i) => {
      const t = text.trim();
      if (!t || t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return;
      const score = progress.has(i + 1) ? 0.9 : inLoop.has(i + 1) ? 0.6 : ran.has(i + 1) ? 0.3 : 0.1;
      out.push({ file, line: i + 1, score, ef: 0, ep: 0, inStack: false });
    });
  }
  return out.sort((a, b) => b.score - a.score || a.file.localeCompare(b.file) || a.line - b.line).slice(0, 200);
}
