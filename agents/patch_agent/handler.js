// Candidate generation: mutants of the suspicious lines (and a model's proposal when one is configured),
// one test_agent task per candidate, first passing candidate wins, the rest are cancelled.
import { searchRepair } from '../../dist/src/repair/index.js';

export default async function patch(input, ctx) {
  const base = ctx.deps.baseline;
  const analysis = ctx.deps.analyze;
  if (base.ok) return { winner: null, note: 'the suite already passes: nothing to repair', candidates: [], generated: 0, tried: 0, killed: { timeout: 0, memory: 0 }, cancelled: 0, model: { asked: false, proposals: 0, error: null } };
  const res = await searchRepair({ ...input, testAgent: 'test_agent', prefix: 'cand', useModel: true }, analysis, base, ctx);
  ctx.log(res.winner ? `winner: ${res.winner.description} (${res.winner.task})` : `no candidate passed (${res.tried} tried)`);
  return res;
}
