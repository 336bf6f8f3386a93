// Two jobs: `scan` (read-only inventory of a repository or a shard of it) and `localise` (rank source
// lines by suspiciousness from the baseline test runs; the analysis is also written to the out dir).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, scanRepo } from '../../dist/src/repair/index.js';

export default async function analyzer(input, ctx) {
  if (input.mode === 'scan') {
    const only = Array.isArray(input.only) && input.only.length > 0 ? input.only : undefined;
    const res = scanRepo(input.repo, { only });
    ctx.log(`scanned ${res.files} files${only ? ` in ${only.join(', ')}` : ''}`);
    return res;
  }
  const base = ctx.deps.baseline;
  const analysis = analyse(input.repo, base);
  mkdirSync(input.out, { recursive: true });
  writeFileSync(join(input.out, 'analysis.json'), `${JSON.stringify(analysis, null, 2)}\n`);
  const top = analysis.suspicious[0];
  ctx.log(`${analysis.failing.length} failing test(s); most suspicious: ${top ? `${top.file}:${top.line} (${top.score})` : 'none'}`);
  // Findings for the others: the top suspects in shared memory, and a direct message to the patch agent.
  const suspects = analysis.suspicious.slice(0, 5).map((s) => `${s.file}:${s.line} (${s.score})`);
  await ctx.memory.set('repair/suspects', { failing: analysis.failing.map((f) => f.name), suspects, method: analysis.method });
  const sent = await ctx.send('patch_agent', { type: 'suspects', suspects });
  ctx.log(`sent the top ${suspects.length} suspects to patch_agent (direct message, seq ${sent.seq})`);
  return analysis;
}
