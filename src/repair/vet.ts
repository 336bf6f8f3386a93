/**
 * The differential check of the plausible patches, run by the search once it has them: the inputs come
 * from the test files (probe-inputs.ts), the runs happen in one test-agent task (`probe` mode,
 * probe-run.ts) on the copies the candidate tasks left behind, and the decision is vet-judge.ts's.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BaselineResult } from './baseline.js';
import type { SearchCtx } from './ctx-types.js';
import { probeInputs, type ProbeInput } from './probe-inputs.js';
import type { ProbeRunOutput } from './probe-run.js';
import { judgePlausible, type VetCandidate, type VetDecision } from './vet-judge.js';

/** Plausible patches compared at most (the best-ranked). */
export const VET_MAX_PATCHES = 10;
/** Time limit of the probe task (ms): at most, and at least (when the run is already late). */
const PROBE_TIMEOUT_MS = 25_000;
const PROBE_MIN_MS = 8_000;
/** The probe should end this long after the run began (ms), to keep the run under two minutes. */
const RUN_PROBE_END_MS = 108_000;

export interface VetInput {
  repo: string;
  work: string;
  testAgent: string;
  prefix: string;
  /** The test command: files it names (`node check.js`) are read for calls too. */
  testCmd: string;
  /** When the run started (epoch ms), for the probe's time limit. */
  startedAt?: number | undefined;
  /** Which check of this attempt (1, 2, …): the probe task of each has its own id. Default 1. */
  round?: number | undefined;
  /** Plausible patches, best-ranked first, with the candidate tasks that ran them (their copies are in work/candidates/<task>). */
  candidates: VetCandidate[];
}

export type VetResult = VetDecision & { probe_ms: number | null; probe_error: string | null };

interface WaitAnswer {
  tasks: Array<{ id: string; state: string; output: unknown; error: { kind: string; message: string } | null }>;
}

/** The test files, plus the JavaScript files the test command names that exist (`node check.js`). */
export function testSources(repo: string, testFiles: readonly string[], testCmd: string): string[] {
  const named = testCmd.split(/\s+/).map((w) => w.replace(/^['"]|['"]$/g, '').replace(/^\.\//, '')).filter((w) => /\.[cm]?js$/.test(w) && !w.startsWith('/') && !w.includes('..') && existsSync(join(repo, w)));
  return [...new Set([...testFiles, ...named])];
}

/** The probe task's time limit: what is left of the run's budget, within [PROBE_MIN_MS, PROBE_TIMEOUT_MS]. */
export function probeLimit(startedAt: number | undefined, now = Date.now()): number {
  const left = startedAt === undefined ? PROBE_TIMEOUT_MS : startedAt + RUN_PROBE_END_MS - now;
  return Math.max(PROBE_MIN_MS, Math.min(PROBE_TIMEOUT_MS, left));
}

/** Run the differential check and judge. Never throws for a probe that failed: that is judged without outputs. */
export async function vetPlausible(input: VetInput, base: Pick<BaselineResult, 'test_files' | 'failing' | 'hung' | 'per_test'>, ctx: SearchCtx): Promise<VetResult> {
  const candidates = input.candidates.slice(0, VET_MAX_PATCHES);
  // Without per-test runs nobody knows which call failed: every call counts as failing (no drift judged).
  const failing: ReadonlySet<string> | 'all' = base.per_test ? new Set(base.failing.map((f) => f.name)) : 'all';
  let inputs: ProbeInput[] = [];
  try {
    inputs = probeInputs(input.repo, testSources(input.repo, base.test_files, input.testCmd), failing);
  } catch (err) {
    ctx.log(`differential check: no inputs (${(err as Error).message})`);
  }
  const baselineHung = base.hung.length > 0 || base.failing.some((f) => f.hung === true);
  let run: ProbeRunOutput | null = null;
  let error: string | null = null;
  if (inputs.length > 0) {
    const id = `${input.prefix}-a${ctx.task.attempt}-probe${(input.round ?? 1) > 1 ? input.round : ''}`;
    const variants = [{ id: 'original', dir: input.repo }, ...candidates.map((c) => ({ id: c.task, dir: join(input.work, 'candidates', c.task) }))];
    try {
      await ctx.spawn({ id, agent: input.testAgent, deps: [], input: { mode: 'probe', variants, inputs }, timeout_ms: probeLimit(input.startedAt) });
      const answer = (await ctx.wait({ tasks: [id], until: 'all' })) as WaitAnswer;
      const t = answer.tasks.find((x) => x.id === id);
      if (t?.state === 'succeeded') run = t.output as ProbeRunOutput;
      else error = `probe task ${t?.state ?? 'missing'}${t?.error ? `: ${t.error.kind} ${t.error.message.slice(0, 200)}` : ''}`;
    } catch (err) {
      error = `probe task not run: ${(err as Error).message}`;
    }
  }
  if (error) {
    ctx.log(`differential check failed (${error}): the patch is reported as plausible`);
    const d = judgePlausible({ candidates, inputs: [], outputs: {}, unstable: [], baselineHung });
    return { ...d, confidence: 'plausible', reason: `the differential check did not finish (${error})`, probe_ms: null, probe_error: error };
  }
  const d = judgePlausible({ candidates, inputs, outputs: run?.outputs ?? {}, unstable: run?.unstable ?? [], baselineHung });
  ctx.log(`differential check: ${inputs.length} input(s), ${candidates.length} plausible patch(es): ${d.confidence} (${d.reason})`);
  return { ...d, probe_ms: run?.ms ?? null, probe_error: null };
}
