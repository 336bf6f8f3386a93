// Fallback for patch_agent: the same search restricted to the simplest mutations, no pairs, no model,
// so a repair can still come out when the main patch agent keeps failing.
import { searchRepair } from '../../dist/src/repair/index.js';

export default async function safePatch(input, ctx) {
  const base = ctx.deps.baseline;
  if (base.ok) return { winner: null, plausible: [], note: 'the suite already passes', candidates: [], generated: 0, pairs_generated: 0, budget: { singles: 0, pairs: 0 }, tried: 0, killed: { timeout: 0, memory: 0 }, errors: 0, weakened: 0, cancelled: 0, model: { asked: false, proposals: 0, error: null, rejected: [] }, confidence: null, vet: null, stopped: 'nothing_to_try' };
  return searchRepair(
    // --max-candidates is `auto` (the default) or a cap: the fallback tries 12 at most either way.
    { ...input, maxCandidates: typeof input.maxCandidates === 'number' ? Math.min(12, input.maxCandidates) : 12, testAgent: 'test_agent', prefix: 'safe', useModel: false, pairs: false, kinds: ['relational', 'equality', 'arithmetic', 'logical', 'off_by_one'] },
    ctx.deps.analyze,
    base,
    ctx,
  );
}
