/** Helpers for tests that watch a live run from outside: a gated plan, CLI output lines, Prometheus text. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCli, tempDir, waitFor } from '../helpers.js';

/**
 * The crash demo with a `gate` task before `patch`: the run holds there until the test creates the gate
 * file, so the test can look at it mid-way without racing a clock.
 */
export function gatedDemoPlan(opts: { spawn?: string } = {}): { dir: string; plan: string; gate: string } {
  const dir = tempDir('agentos-obs-');
  const gate = join(dir, 'gate.open');
  const tasks = [
    { id: 'plan', agent: 'planner', input: { goal: 'make add(a, b) return the sum' } },
    { id: 'analyze', agent: 'analyzer', deps: ['plan'], input: { expression: 'a - b', cases: [[1, 2, 3], [0, 0, 0], [-4, 4, 0], [10, 5, 15]] } },
    { id: 'gate', agent: 'gate_agent', deps: ['analyze'], input: { gate, spawn: opts.spawn } },
    { id: 'patch', agent: 'patch_agent', deps: ['analyze', 'gate'] },
    { id: 'test', agent: 'test_agent', deps: ['patch'] },
    { id: 'report', agent: 'report_agent', deps: ['patch', 'test'] },
  ];
  const plan = join(dir, 'plan.yaml');
  writeFileSync(plan, stringify({ name: 'gated-demo', tasks }));
  return { dir, plan, gate };
}

export type Cli = ReturnType<typeof startCli>;

/** Start the CLI and collect its stdout lines as they come. */
export function startWatched(args: string[]): { proc: Cli; lines: string[]; waitLine: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray> } {
  const proc = startCli(args);
  const lines: string[] = [];
  let partial = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  const waitLine = async (re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> => {
    let m: RegExpMatchArray | null = null;
    await waitFor(() => lines.some((l) => (m = re.exec(l)) !== null) || proc.exitCode !== null, timeoutMs, `a line matching ${re}`);
    if (!m) throw new Error(`CLI exited (${proc.exitCode}) before printing ${re}:\n${lines.join('\n')}`);
    return m;
  };
  return { proc, lines, waitLine };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parse Prometheus text exposition (format 0.0.4); throws on a line that is not valid. */
export function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]!] = lm[2]!;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

export function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
