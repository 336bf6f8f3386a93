// Turns the other agents' findings into files in the output directory.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyMutant, mergeScans, repairMarkdown, scanText, unifiedDiff } from '../../dist/src/repair/index.js';

export default async function report(input, ctx) {
  mkdirSync(input.out, { recursive: true });
  if (input.mode === 'scan' || input.mode === 'status') {
    const scans = Object.values(ctx.deps).filter((d) => d && typeof d === 'object' && 'languages' in d);
    const scan = mergeScans(scans);
    const tests = ctx.deps.tests ?? null;
    const lines = scanText(scan);
    if (tests) lines.push(`test suite: ${tests.pass ? 'passes' : 'FAILS'} (${tests.tests.passed} passed, ${tests.tests.failed} failed, exit ${tests.exit_code})`);
    writeFileSync(join(input.out, 'scan.json'), `${JSON.stringify(scan, null, 2)}\n`);
    writeFileSync(join(input.out, 'report.md'), `# ${input.goal}\n\n${lines.map((l) => `- ${l}`).join('\n')}\n`);
    return { scan, tests, lines, files: [join(input.out, 'report.md'), join(input.out, 'scan.json')] };
  }
  const { baseline: base, analyze: analysis, patch: search, test: after } = ctx.deps;
  // What the others left in shared memory, fitted (and compressed) into this agent's context budget.
  const context = await ctx.memory.context({ prefix: 'repair/' });
  const inbox = await ctx.receiveMany({ timeout_ms: 100 });
  ctx.log(`context: ${context.tokens_before} -> ${context.tokens_after} tokens; ${inbox.length} message(s) in the mailbox`);
  let diff = '';
  const w = search.winner;
  if (w) {
    const before = readFileSync(join(input.repo, w.file), 'utf8');
    diff = unifiedDiff(w.file, before, applyMutant(before, w));
    writeFileSync(join(input.out, 'patch.diff'), diff);
  }
  // Only a patch that passed the differential check is THE fix; another passing patch is plausible.
  const verified = Boolean(w) && after?.pass === true;
  const fixed = verified && search.confidence === 'fix';
  const plausible = verified && !fixed;
  const notes = [
    `Context handed to the report agent: ${context.tokens_before} -> ${context.tokens_after} tokens${context.compressed ? ' (compressed)' : ''}.`,
    `Messages received: ${inbox.map((m) => `${m.payload?.type ?? '?'} from ${m.from.address}`).join(', ') || 'none'}.`,
  ];
  writeFileSync(join(input.out, 'report.md'), repairMarkdown({ goal: input.goal, repo: input.repo, base, analysis, search, after: after ?? null, diff, notes }));
  ctx.log(fixed ? `fixed: ${w.description}` : plausible ? `plausible patch, not confirmed: ${w.description} (${search.vet?.reason ?? ''})` : 'no fix found');
  return { fixed, plausible, confidence: fixed ? 'fix' : plausible ? 'plausible' : null, reason: search.vet?.reason ?? null, diff, fix: w ? w.description : null, out: input.out, files: [...(w ? [join(input.out, 'patch.diff')] : []), join(input.out, 'report.md')] };
}
