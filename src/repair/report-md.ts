/** report.md for a repair run, and the text forms of scan and status reports. */
import type { Analysis } from './analyse.js';
import type { ScanResult } from './scan.js';
import type { SearchResult } from './search.js';
import type { BaselineResult, CandidateResult } from './test-run.js';

export function repairMarkdown(r: { goal: string; repo: string; base: BaselineResult; analysis: Analysis; search: SearchResult; after: CandidateResult | null; diff: string; notes?: string[] }): string {
  const out: string[] = [];
  const fixed = r.search.winner !== null && r.after?.pass === true;
  out.push(`# Repair report`, '', `- goal: ${r.goal}`, `- repository (working copy): \`${r.repo}\``, `- result: **${fixed ? 'FIXED' : 'NOT FIXED'}**`, '');
  out.push(`## Failing tests before (${r.base.tests.failed} of ${r.base.tests.total})`, '');
  for (const f of r.base.failing) out.push(`- ${f.name}${f.location ? ` (${f.location})` : ''}${f.error ? `: ${f.error.split('\n').filter(Boolean).slice(0, 3).join(' / ')}` : ''}`);
  if (r.base.failing.length === 0) out.push(r.base.ok ? '- none: the suite already passes' : `- the test command failed (exit ${r.base.exit_code}) without naming tests`);
  out.push('', `## Fault localisation`, '', `Method: ${r.analysis.method}.`, '', '| file:line | score | failing runs | passing runs | in stack |', '| --- | --- | --- | --- | --- |');
  for (const s of r.analysis.suspicious.slice(0, 10)) out.push(`| ${s.file}:${s.line} | ${s.score} | ${s.ef} | ${s.ep} | ${s.inStack ? 'yes' : ''} |`);
  out.push('', `## The fix`, '');
  if (r.search.winner) {
    out.push(`${r.search.winner.description} (candidate task \`${r.search.winner.task}\`)`, '', '```diff', r.diff.trimEnd(), '```');
  } else out.push('No candidate made the whole suite pass.');
  const s = r.search;
  out.push('', `## Candidates`, '', `${s.generated} mutants generated; ${s.candidates.length} inserted as test tasks; ${s.tried} ran to a verdict, ${s.cancelled} cancelled after the winner; killed: ${s.killed.timeout} for time (limit ${s.candidate_timeout_ms} ms), ${s.killed.memory} for memory.`);
  if (s.model.asked) out.push('', `Model: ${s.model.proposals} proposal(s)${s.model.error ? `; error: ${s.model.error}` : ''}.`);
  out.push('', '| task | candidate | suspiciousness | verdict | ms |', '| --- | --- | --- | --- | --- |');
  for (const c of s.candidates) out.push(`| ${c.task} | ${c.description.replace(/\|/g, '\\|')} | ${c.score} | ${c.verdict} | ${c.ms ?? '-'} |`);
  out.push('', `## Tests after`, '');
  if (r.after) out.push(`${r.after.tests.passed} passed, ${r.after.tests.failed} failed (exit ${r.after.exit_code}) with the patch applied to a fresh copy.`);
  else out.push('Not run: there was no patch to verify.');
  if (r.notes?.length) out.push('', '## Agents', '', ...r.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

export function scanText(s: ScanResult): string[] {
  const out = [`${s.root}: ${s.files} files, ${s.lines} lines, ${(s.bytes / 1024).toFixed(1)} KiB${s.truncated ? ' (truncated)' : ''}`];
  out.push('languages: ' + s.languages.slice(0, 8).map((l) => `${l.language} ${l.files} files/${l.lines} lines`).join(', '));
  out.push(`tests: ${s.tests.length} file(s)${s.tests.length ? ` (${s.tests.slice(0, 5).join(', ')}${s.tests.length > 5 ? ', ...' : ''})` : ''}`);
  out.push(`TODO/FIXME: ${s.todos.length}${s.todos.length ? ` (first: ${s.todos[0]!.file}:${s.todos[0]!.line})` : ''}`);
  out.push('largest: ' + s.largest.slice(0, 5).map((f) => `${f.file} (${f.lines} lines)`).join(', '));
  if (s.refused_symlinks.length) out.push(`refused symlinks leaving the root: ${s.refused_symlinks.map((r) => `${r.path} -> ${r.target}`).join(', ')}`);
  return out;
}
