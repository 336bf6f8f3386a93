/** report.md for a repair run, and the text forms of scan and status reports. */
import type { Analysis } from './analyse.js';
import type { ScanResult } from './scan.js';
import type { SearchResult } from './search.js';
import type { BaselineResult, CandidateResult } from './test-run.js';

export function repairMarkdown(r: { goal: string; repo: string; base: BaselineResult; analysis: Analysis; search: SearchResult; after: CandidateResult | null; diff: string; notes?: string[] }): string {
  const out: string[] = [];
  const verified = r.search.winner !== null && r.after?.pass === true;
  const fixed = verified && r.search.confidence === 'fix';
  const result = fixed ? 'FIXED' : verified ? 'PLAUSIBLE PATCH (passes the tests, not confirmed as the fix)' : 'NOT FIXED';
  out.push(`# Repair report`, '', `- goal: ${r.goal}`, `- repository (working copy): \`${r.repo}\``, `- result: **${result}**`, '');
  out.push(`## Failing tests before (${r.base.tests.failed} of ${r.base.tests.total})`, '');
  for (const f of r.base.failing) out.push(`- ${f.name}${f.location ? ` (${f.location})` : ''}${f.error ? `: ${f.error.split('\n').filter(Boolean).slice(0, 3).join(' / ')}` : ''}`);
  if (r.base.failing.length === 0) out.push(r.base.ok ? '- none: the suite already passes' : `- the test command failed (exit ${r.base.exit_code}) without naming tests`);
  out.push('', `## Fault localisation`, '', `Method: ${r.analysis.method}.`, '', '| file:line | score | failing runs | passing runs | in stack |', '| --- | --- | --- | --- | --- |');
  for (const s of r.analysis.suspicious.slice(0, 10)) out.push(`| ${s.file}:${s.line} | ${s.score} | ${s.ef} | ${s.ep} | ${s.inStack ? 'yes' : ''} |`);
  const s = r.search;
  out.push('', fixed || !verified ? `## The fix` : `## The plausible patch`, '');
  if (s.winner) {
    out.push(`${s.winner.description} (candidate task \`${s.winner.task}\`; source: **${s.winner.source === 'model' ? 'model proposal' : `search (${s.winner.kind})`}**; rank score ${s.winner.score}, ${s.winner.size} character(s) changed)`, '', '```diff', r.diff.trimEnd(), '```');
    if (s.plausible.length > 1) {
      out.push('', `Other plausible patches (they pass the suite too; the winner is chosen by rank, then by the smaller edit):`, '');
      for (const p of s.plausible.slice(1, 11)) out.push(`- ${p.description} (${p.source}, ${p.kind}, score ${p.score}, ${p.size} char(s))`);
    }
    out.push(...vetLines(s));
  } else out.push('No candidate made the whole suite pass.');
  out.push('', `## Run summary`, '');
  out.push(`- baseline: ${r.base.note}`);
  out.push(`- search: ${s.generated} single mutants, ${s.pairs_generated} pairs; budget ${s.budget.singles} singles + ${s.budget.pairs} pairs; stopped: ${s.stopped}`);
  out.push(`- candidates: ${s.candidates.length} inserted as test tasks; ${s.tried} ran to a verdict (${s.candidates.filter((c) => c.verdict === 'pass').length} passed, ${s.candidates.filter((c) => c.verdict === 'fail').length} failed), ${s.cancelled} cancelled`);
  out.push(`- killed: ${s.killed.timeout} for time (limit ${s.candidate_timeout_ms} ms), ${s.killed.memory} for memory — expected during a search (mutants that loop or allocate), not failures of the workflow`);
  out.push(`- workflow trouble: ${s.errors} candidate run(s) that crashed or errored; ${s.weakened} passed only with fewer tests than the baseline (refused)${r.base.hung.length + r.base.crashed.length ? `; baseline runs that hung or died: ${[...r.base.hung, ...r.base.crashed].join(', ')}` : ''}`);
  if (s.model.asked) out.push(`- model: ${s.model.proposals} usable proposal(s)${s.model.error ? `; ${s.model.error}` : ''}${s.model.rejected.length ? `; rejected: ${s.model.rejected.join('; ')}` : ''}`);
  out.push('', `## Candidates`, '', '| task | candidate | source | score | verdict | ms |', '| --- | --- | --- | --- | --- | --- |');
  for (const c of s.candidates.slice(0, 200)) out.push(`| ${c.task} | ${c.description.replace(/\|/g, '\\|')} | ${c.source} | ${c.score} | ${c.verdict} | ${c.ms ?? '-'} |`);
  if (s.candidates.length > 200) out.push(`| … | ${s.candidates.length - 200} more in run-report.json | | | | |`);
  out.push('', `## Tests after`, '');
  if (r.after) out.push(`${r.after.tests.passed} passed, ${r.after.tests.failed} failed (exit ${r.after.exit_code}) with the patch applied to a fresh copy.`);
  else out.push('Not run: there was no patch to verify.');
  if (r.notes?.length) out.push('', '## Agents', '', ...r.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** The differential check's section: confidence, why, rivals, anomalies. */
function vetLines(s: SearchResult): string[] {
  const v = s.vet;
  if (!v) return [];
  const out = ['', `### Confidence: ${v.confidence === 'fix' ? 'a confirmed fix' : 'plausible only'}`, '', `${v.reason}. Differential check: ${v.inputs} input(s) from the tests' calls and their neighbours${v.unstable ? ` (${v.unstable} unstable, left out)` : ''}${v.probe_ms !== null ? `, ${v.probe_ms} ms` : ''}.`];
  for (const r of v.rivals) out.push(`- rival: ${r.description} — on \`${r.input}\` it gives \`${r.rival_out}\`, the reported patch \`${r.chosen_out}\``);
  for (const x of v.variants) if (x.anomalies || x.anti_pattern) out.push(`- not clean: ${x.task}: ${x.anti_pattern ?? `${x.anomalies} anomal${x.anomalies === 1 ? 'y' : 'ies'}, e.g. \`${x.anomaly}\``}`);
  if (v.confidence === 'plausible') out.push('', '`agentos repair --apply` does not apply a plausible patch; `--apply-plausible` does.');
  return out;
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
