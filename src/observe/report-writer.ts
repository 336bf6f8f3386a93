/**
 * Writing report.json so that no report can exceed a string limit (V8 strings stop at ~512 MiB): the
 * report is written piece by piece, one task at a time, and a task output whose JSON is over
 * INLINE_OUTPUT_MAX_BYTES goes to `<run_dir>/outputs/<task>.json`, referenced from the report as
 * `{ "$output_file": "outputs/<task>.json", "bytes": N }` (docs/observability.md). Atomic: written to a
 * temporary file, then renamed, so a reader never sees half a report.
 */
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The parts of a RunReport this writer needs (report.ts imports this module, not the other way round). */
interface TaskLike {
  id: string;
  output: unknown;
}
interface ReportLike {
  run_dir: string;
  tasks: readonly TaskLike[];
}

/** Outputs whose JSON is longer than this (bytes, UTF-16 units counted as bytes) are stored beside the report. */
export const INLINE_OUTPUT_MAX_BYTES = 1024 * 1024;

/** What report.json holds instead of a large output. */
export interface OutputRef {
  /** Path relative to the run directory. */
  $output_file: string;
  /** Length of the stored JSON. */
  bytes: number;
}

// Spilled once per task, however many files the report is written to (run dir and --report).
const spilled = new WeakMap<TaskLike, OutputRef>();

function outputOf(t: TaskLike, runDir: string): unknown {
  const known = spilled.get(t);
  if (known) return known;
  if (t.output === null || typeof t.output !== 'object' && typeof t.output !== 'string') return t.output;
  if (typeof t.output === 'string' && t.output.length * 3 < INLINE_OUTPUT_MAX_BYTES) return t.output;
  const json = JSON.stringify(t.output);
  if (json === undefined || json.length <= INLINE_OUTPUT_MAX_BYTES) return t.output;
  const rel = `outputs/${encodeURIComponent(t.id)}.json`;
  mkdirSync(join(runDir, 'outputs'), { recursive: true });
  writeFileSync(join(runDir, rel), json);
  const ref: OutputRef = { $output_file: rel, bytes: Buffer.byteLength(json) };
  spilled.set(t, ref);
  return ref;
}

const HOLE = '\u0000tasks\u0000';

/** Write the report to `file` (atomically), spilling large outputs into `<report.run_dir>/outputs/`. */
export function writeReportFile(file: string, report: ReportLike): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // Everything but the tasks is small: one stringify with a placeholder where the tasks go.
  const [head, tail] = JSON.stringify({ ...report, tasks: HOLE }, null, 2).split(JSON.stringify(HOLE)) as [string, string];
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, report.tasks.length === 0 ? '[]' : '[\n');
    report.tasks.forEach((t, i) => {
      const text = JSON.stringify({ ...t, output: outputOf(t, report.run_dir) }, null, 2).replace(/\n/g, '\n    ');
      writeSync(fd, `    ${text}${i < report.tasks.length - 1 ? ',' : ''}\n`);
    });
    if (report.tasks.length > 0) writeSync(fd, '  ]');
    writeSync(fd, `${tail}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
