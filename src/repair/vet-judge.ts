/**
 * Whether the search may call its best plausible patch THE fix, or only a plausible patch: a patch that
 * passes the tests may still be wrong (it overfits them). Judged from the differential runs of
 * probe-run.ts — the original and each plausible patch on the tests' own calls and their neighbours —
 * and from anti-patterns of search-based repair (Tan et al. 2016):
 *   - an anomaly: the patch hangs on an input where the original does not (or at all, when the failure
 *     the tests showed was a hang: the patch has not removed that failure mode), dies, or throws where
 *     the original returned;
 *   - an anti-pattern: the patch deletes a guard or a control-flow exit (`if`, `return`, `break`,
 *     `continue`, `throw`), the edits that most often make tests pass by skipping code;
 *   - a contradiction: the clean patches (no anomaly, no anti-pattern) do not all behave alike.
 * A confident fix is the best-ranked clean patch when every clean patch behaves alike, or when exactly
 * one behaviour keeps the original's results on every neighbour of a passing test (the others change
 * what the passing tests' neighbourhood did) — and only when the failing tests' own inputs show that patch
 * changing the original's result, and each of its changes next to a passing test is in a function
 * whose failing-test inputs change too (a correct fix changes the function the failing tests call, so
 * nearby passing calls may change; a change elsewhere, or one the failing inputs never show, is not
 * explained by the tests). Otherwise the best patch is reported as `plausible`, with
 * its rivals and an input on which they differ.
 */
import { HANG, SKIPPED } from './probe-run.js';
import type { ProbeInput } from './probe-inputs.js';

export interface VetCandidate {
  task: string;
  description: string;
  kind: string;
  original: string;
  replacement: string;
}

export interface VetVariant {
  task: string;
  /** Inputs where the patch hangs, dies or newly throws. */
  anomalies: number;
  /** One such input, `fn(args) -> output`. */
  anomaly: string | null;
  anti_pattern: string | null;
  /** Behaviour class among the clean patches (0 = the chosen one's); null for a patch that is not clean. */
  behaviour: number | null;
  /** Neighbours of passing tests where the patch's result differs from the original's. */
  drift: number;
  /**
   * Of those, the ones the failing tests do not explain: the function has no failing-test input (a
   * failing test's call or its neighbour) on which the patch changes the original's result. A fix must
   * change what the failing tests call, so changes next to that function's passing calls are expected;
   * a change to a function the failing tests' own inputs never show changing is not (overfitting).
   */
  drift_unexplained: number;
  /** Whether the failing tests' own inputs (their calls and neighbours) show the patch changing the original's result. */
  confirmed: boolean;
}

export interface VetDecision {
  confidence: 'fix' | 'plausible';
  /** The task of the patch reported (the fix, or the best plausible patch). */
  chosen: string;
  reason: string;
  variants: VetVariant[];
  /** Clean plausible patches that behave differently from the chosen one, with an input showing it. */
  rivals: Array<{ task: string; description: string; input: string; chosen_out: string; rival_out: string }>;
  inputs: number;
  unstable: number;
}

const abnormal = (o: string | undefined): boolean => o === undefined || o === HANG || o === SKIPPED || o.startsWith('dies') || o === 'not a function' || o.startsWith('import fails');
const CONTROL = /^(if\b|return\b|break\b|continue\b|throw\b)/;

/** The anti-pattern a candidate is, or null. */
export function antiPattern(c: Pick<VetCandidate, 'kind' | 'original' | 'replacement' | 'description'>): string | null {
  const removed = c.kind === 'remove_stmt' || (c.kind === 'model' && c.replacement.trim() === '');
  if (removed && CONTROL.test(c.original.trim())) return `deletes a guard or exit (\`${c.original.trim().split('\n')[0]!.slice(0, 40)}\`)`;
  if (c.kind === 'pair' && / and remove `(if|return|break|continue|throw)\b|^[^:]+:\d+: remove `(if|return|break|continue|throw)\b/.test(c.description)) return 'one of its edits deletes a guard or exit';
  return null;
}

const call = (i: ProbeInput): string => `${i.fn}(${i.args.replace(/^\[|\]$/g, '')})`;

/**
 * The decision for the plausible patches (best-ranked first). `outputs` has `original` and one entry per
 * plausible task; without outputs for a task (the check did not run) that task is judged by its anti-
 * pattern only.
 */
export function judgePlausible(p: { candidates: VetCandidate[]; inputs: ProbeInput[]; outputs: Record<string, string[]>; unstable: number[]; baselineHung: boolean }): VetDecision {
  const orig = p.outputs.original ?? [];
  const skip = new Set(p.unstable);
  const idx = p.inputs.map((_, i) => i).filter((i) => !skip.has(i));
  const variants: VetVariant[] = p.candidates.map((c) => {
    const out = p.outputs[c.task] ?? [];
    let anomalies = 0;
    let anomaly: string | null = null;
    let drift = 0;
    const drifted: string[] = [];
    const changedOnFail = new Set<string>();
    for (const i of idx) {
      const o = orig[i];
      const v = out[i];
      if (v === undefined || v === SKIPPED) continue;
      const hangLike = v === HANG || v.startsWith('dies');
      const bad = (hangLike && (p.baselineHung || !abnormal(o))) || (!hangLike && abnormal(v) && !abnormal(o)) || (v.startsWith('throws') && !abnormal(o) && !o!.startsWith('throws'));
      if (bad) {
        anomalies++;
        anomaly ??= `${call(p.inputs[i]!)} -> ${v.slice(0, 80)}`;
      }
      const fn = `${p.inputs[i]!.file}\u0000${p.inputs[i]!.fn}`;
      if (p.inputs[i]!.status === 'pass' && !abnormal(o) && v !== o) {
        drift++;
        drifted.push(fn);
      }
      if (p.inputs[i]!.status === 'fail' && v !== o) changedOnFail.add(fn);
    }
    const drift_unexplained = drifted.filter((fn) => !changedOnFail.has(fn)).length;
    return { task: c.task, anomalies, anomaly, anti_pattern: antiPattern(c), behaviour: null, drift, drift_unexplained, confirmed: changedOnFail.size > 0 };
  });
  const clean = variants.filter((v) => v.anomalies === 0 && v.anti_pattern === null);
  const base = { inputs: p.inputs.length, unstable: p.unstable.length, variants, rivals: [] as VetDecision['rivals'] };
  if (clean.length === 0) {
    const first = variants[0]!;
    return { ...base, confidence: 'plausible', chosen: first.task, reason: `no plausible patch is clean: ${first.anti_pattern ?? `${first.anomalies} anomal${first.anomalies === 1 ? 'y' : 'ies'} on inputs next to the tests' (e.g. ${first.anomaly})`}` };
  }
  // Behaviour classes of the clean patches, in rank order.
  const sig = (t: string): string => idx.map((i) => p.outputs[t]?.[i] ?? '?').join('\u0000');
  const classes: Array<{ sig: string; members: VetVariant[] }> = [];
  for (const v of clean) {
    const s = sig(v.task);
    const k = classes.find((c) => c.sig === s);
    if (k) k.members.push(v);
    else classes.push({ sig: s, members: [v] });
  }
  let pick = classes[0]!;
  let reason: string;
  let confidence: VetDecision['confidence'] = 'fix';
  if (classes.length === 1) reason = p.inputs.length === 0 ? 'no inputs to compare (the tests call nothing with plain values); no anomaly or anti-pattern' : `every clean plausible patch behaves alike on ${idx.length} input(s) derived from the tests`;
  else {
    const zero = classes.filter((c) => c.members[0]!.drift === 0);
    if (zero.length === 1) {
      pick = zero[0]!;
      reason = `${classes.length} behaviours among the clean patches; only this one keeps the original's results next to the passing tests`;
    } else {
      confidence = 'plausible';
      reason = `${classes.length} different behaviours among the clean plausible patches: the tests do not decide between them`;
    }
  }
  classes.sort((a, b) => (a === pick ? -1 : b === pick ? 1 : 0));
  classes.forEach((c, k) => c.members.forEach((m) => (m.behaviour = k)));
  const chosen = pick.members[0]!;
  const rivals = classes.slice(1).map((c) => {
    const r = c.members[0]!;
    const i = idx.find((j) => p.outputs[chosen.task]?.[j] !== p.outputs[r.task]?.[j]) ?? idx[0]!;
    return { task: r.task, description: p.candidates.find((x) => x.task === r.task)!.description, input: call(p.inputs[i]!), chosen_out: (p.outputs[chosen.task]?.[i] ?? '?').slice(0, 120), rival_out: (p.outputs[r.task]?.[i] ?? '?').slice(0, 120) };
  });
  // A hang is judged by its anomalies (the failing call may never return); otherwise a patch the failing
  // tests' inputs never show changing was not seen doing what the tests ask: the check cannot confirm it.
  if (confidence === 'fix' && !p.baselineHung && p.inputs.length > 0 && !chosen.confirmed) {
    confidence = 'plausible';
    reason = `the failing tests' own calls are not among the ${p.inputs.length} input(s) (or show no change), so the check cannot confirm the patch`;
  } else if (confidence === 'fix' && chosen.drift_unexplained > 0) {
    confidence = 'plausible';
    reason = `it changes the original's results on ${chosen.drift_unexplained} input(s) next to passing tests, and the failing tests' own inputs do not show that function changing`;
  }
  if (p.inputs.length === 0 && p.candidates.length > 1 && confidence === 'fix') {
    confidence = 'plausible';
    reason = `${p.candidates.length} plausible patches and no inputs to tell them apart`;
  }
  return { ...base, confidence, chosen: chosen.task, reason, rivals };
}
