// Candidate generation: the model's proposals (when one is configured), then mutants of the suspicious
// lines, then pairs of edits; one test_agent task per candidate, a few at a time in rank order; the
// winner is the best-ranked candidate that passes, the other plausible patches are reported.
import { searchRepair } from '../../dist/src/repair/index.js';

const EMPTY = { winner: null, plausible: [], candidates: [], generated: 0, pairs_generated: 0, budget: { singles: 0, pairs: 0 }, tried: 0, killed: { timeout: 0, memory: 0 }, errors: 0, weakened: 0, cancelled: 0, model: { asked: false, proposals: 0, error: null, rejected: [] }, confidence: null, vet: null, stopped: 'nothing_to_try' };

export default async function patch(input, ctx) {
  const base = ctx.deps.baseline;
  const analysis = ctx.deps.analyze;
  if (base.ok) return { ...EMPTY, note: 'the suite already passes: nothing to repair' };
  const note = await ctx.receive({ timeout_ms: 200 });
  if (note) ctx.log(`message from ${note.from.address}: ${note.payload.type} ${note.payload.suspects?.[0] ?? ''}`);
  const res = await searchRepair({ ...input, testAgent: 'test_agent', prefix: 'cand', useModel: true }, analysis, base, ctx);
  ctx.log(res.winner ? `${res.confidence === 'fix' ? 'fix' : 'plausible patch (not confirmed)'} (${res.winner.source}): ${res.winner.description} (${res.winner.task}); ${res.plausible.length} plausible patch(es)` : `no candidate passed (${res.tried} tried, stopped: ${res.stopped})`);
  await ctx.memory.set('repair/outcome', { winner: res.winner?.description ?? null, source: res.winner?.source ?? null, tried: res.tried, cancelled: res.cancelled, killed: res.killed, plausible: res.plausible.length });
  const b = await ctx.broadcast({ type: res.winner ? 'winner' : 'no_fix', fix: res.winner?.description ?? null });
  ctx.log(`broadcast the outcome to ${b.delivered_to?.length ?? 0} agent instance(s)`);
  return res;
}
