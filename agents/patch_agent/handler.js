// Candidate generation: mutants of the suspicious lines (and a model's proposal when one is configured),
// one test_agent task per candidate, first passing candidate wins, the rest are cancelled.
import { searchRepair } from '../../dist/src/repair/index.js';

export default async function patch(input, ctx) {
  const base = ctx.deps.baseline;
  const analysis = ctx.deps.analyze;
  if (base.ok) return { winner: null, note: 'the suite already passes: nothing to repair', candidates: [], generated: 0, tried: 0, killed: { timeout: 0, memory: 0 }, cancelled: 0, model: { asked: false, proposals: 0, error: null } };
  const note = await ctx.receive({ timeout_ms: 200 });
  if (note) ctx.log(`message from ${note.from.address}: ${note.payload.type} ${note.payload.suspects?.[0] ?? ''}`);
  const res = await searchRepair({ ...input, testAgent: 'test_agent', prefix: 'cand', useModel: true }, analysis, base, ctx);
  ctx.log(res.winner ? `winner: ${res.winner.description} (${res.winner.task})` : `no candidate passed (${res.tried} tried)`);
  await ctx.memory.set('repair/outcome', { winner: res.winner?.description ?? null, tried: res.tried, cancelled: res.cancelled, killed: res.killed });
  const b = await ctx.broadcast({ type: res.winner ? 'winner' : 'no_fix', fix: res.winner?.description ?? null });
  ctx.log(`broadcast the outcome to ${b.delivered_to?.length ?? 0} agent instance(s)`);
  return res;
}
