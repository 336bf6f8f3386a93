/**
 * Fault localisation: spectrum-based (Ochiai) over test runs with their executed lines, plus a boost
 * for source lines that appear in the stack traces of failing tests. The result ranks lines by
 * suspiciousness; the mutation search tries the most suspicious first.
 */
export interface TestRunSpectrum {
  label: string;
  failed: boolean;
  /** Executed lines per file. */
  lines: Map<string, Set<number>> | Record<string, number[]>;
}

export interface SuspiciousLine {
  file: string;
  line: number;
  score: number;
  /** Failing / passing runs that executed it. */
  ef: number;
  ep: number;
  inStack: boolean;
}

const STACK_BOOST = 0.5;

function entries(lines: TestRunSpectrum['lines']): Array<[string, Iterable<number>]> {
  return lines instanceof Map ? [...lines.entries()] : Object.entries(lines);
}

/**
 * @param stackLines `file:line` of frames in failing tests' stacks (files relative to the repo).
 */
export function localise(runs: readonly TestRunSpectrum[], stackLines: readonly string[] = []): SuspiciousLine[] {
  const totalFailed = runs.filter((r) => r.failed).length;
  const counts = new Map<string, { ef: number; ep: number }>();
  for (const r of runs) {
    for (const [file, lines] of entries(r.lines)) {
      for (const l of lines) {
        const k = `${file}:${l}`;
        const c = counts.get(k) ?? { ef: 0, ep: 0 };
        if (r.failed) c.ef++;
        else c.ep++;
        counts.set(k, c);
      }
    }
  }
  const stack = new Set(stackLines);
  for (const k of stack) if (!counts.has(k)) counts.set(k, { ef: 0, ep: 0 });
  const out: SuspiciousLine[] = [];
  for (const [k, c] of counts) {
    const i = k.lastIndexOf(':');
    const inStack = stack.has(k);
    const ochiai = totalFailed > 0 && c.ef > 0 ? c.ef / Math.sqrt(totalFailed * (c.ef + c.ep)) : 0;
    const score = Math.round((ochiai + (inStack ? STACK_BOOST : 0)) * 1000) / 1000;
    if (score > 0) out.push({ file: k.slice(0, i), line: Number(k.slice(i + 1)), score, ef: c.ef, ep: c.ep, inStack });
  }
  return out.sort((a, b) => b.score - a.score || a.file.localeCompare(b.file) || a.line - b.line);
}
