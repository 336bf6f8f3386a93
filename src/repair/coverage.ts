/**
 * Lines executed, from the V8 coverage files that NODE_V8_COVERAGE makes every Node process write.
 * V8 reports nested byte ranges with counts; a line counts as executed when the innermost range holding
 * its first non-blank character (after any leading closing braces) ran at least once.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineOf } from './ast.js';

interface V8Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface V8Script {
  url: string;
  functions: Array<{ ranges: V8Range[] }>;
}

/** Executed lines per file (relative to `root`, / separators), for files under root that pass `keep`. */
export function executedLines(covDir: string, root: string, keep: (rel: string) => boolean): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  let files: string[];
  try {
    files = readdirSync(covDir).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const f of files) {
    let scripts: V8Script[];
    try {
      scripts = (JSON.parse(readFileSync(join(covDir, f), 'utf8')) as { result: V8Script[] }).result;
    } catch {
      continue; // a process killed while writing
    }
    for (const s of scripts) {
      if (!s.url.startsWith('file://')) continue;
      const abs = fileURLToPath(s.url);
      const rel = relative(root, abs).split(sep).join('/');
      if (rel.startsWith('..') || rel.includes('node_modules/') || !keep(rel)) continue;
      let source: string;
      try {
        source = readFileSync(abs, 'utf8');
      } catch {
        continue;
      }
      const lines = linesRun(source, s.functions.flatMap((fn) => fn.ranges));
      const set = out.get(rel) ?? new Set<number>();
      for (const l of lines) set.add(l);
      out.set(rel, set);
    }
  }
  return out;
}

function linesRun(source: string, ranges: V8Range[]): number[] {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) starts.push(i + 1);
  const run: number[] = [];
  for (let l = 0; l < starts.length; l++) {
    const begin = starts[l]!;
    const end = l + 1 < starts.length ? starts[l + 1]! - 1 : source.length;
    const text = source.slice(begin, end);
    // A line that opens with closing braces (`} else if (c) {`) is judged by what follows them: the
    // braces belong to the block before, which may not have run when the condition did.
    const first = text.search(/[^\s})]/);
    if (first < 0) continue;
    const lead = text.slice(first);
    if (lead.startsWith('//') || lead.startsWith('/*') || lead.startsWith('*')) continue; // a comment runs nothing
    const elseIf = /^else\s+if\b/.exec(lead) ? lead.indexOf('if') : 0;
    const off = begin + first + elseIf;
    let best: V8Range | undefined;
    for (const r of ranges) {
      if (r.startOffset <= off && off < r.endOffset && (!best || r.endOffset - r.startOffset <= best.endOffset - best.startOffset)) best = r;
    }
    if (best && best.count > 0) run.push(lineOf(starts, off));
  }
  return run;
}
