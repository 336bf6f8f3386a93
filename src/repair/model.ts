/**
 * Candidate patches from a configured model (AGENTOS_LLM_*, called through ctx.llm in the kernel): the
 * prompt carries the failing tests and the most suspicious lines with their surroundings; the answer is
 * JSON, a list of line replacements. Every proposal is checked like a mutant (a source file of the
 * repository, never a test; the lines exist; it changes something; it parses) before it costs a test run.
 */
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { z } from 'zod';
import type { Analysis } from './analyse.js';
import type { Candidate } from './candidates.js';
import { dedupe, editSize, lineStarts } from './mutate.js';
import { isTestFile } from './repo.js';
import type { SearchCtx } from './ctx-types.js';

const proposal = z.object({ file: z.string().min(1), line: z.number().int().positive(), end_line: z.number().int().positive().optional(), replacement: z.string() });
const answer = z.union([z.object({ patches: z.array(proposal).min(1) }), z.array(proposal).min(1), proposal]);

export interface ModelOutcome {
  candidates: Candidate[];
  /** Why the model gave nothing usable (null: it did, or no model is configured). */
  error: string | null;
  /** Proposals refused, with the reason each. */
  rejected: string[];
  configured: boolean;
}

export const MAX_MODEL_PATCHES = 5;

export function modelPrompt(repo: string, analysis: Pick<Analysis, 'failing' | 'suspicious'>): string {
  const failing = analysis.failing.slice(0, 8).map((f) => `- ${f.name}: ${(f.error ?? '').split('\n').slice(0, 6).join(' ').slice(0, 400)}`).join('\n');
  const shown = new Set<string>();
  const blocks: string[] = [];
  for (const s of analysis.suspicious.slice(0, 8)) {
    let lines: string[];
    try {
      lines = readFileSync(join(repo, s.file), 'utf8').split('\n');
    } catch {
      continue;
    }
    const from = Math.max(1, s.line - 3);
    const to = Math.min(lines.length, s.line + 3);
    const key = `${s.file}:${from}`;
    if (shown.has(key)) continue;
    shown.add(key);
    const body = lines.slice(from - 1, to).map((l, i) => `${String(from + i).padStart(4)}${from + i === s.line ? '>' : ' '} ${l}`).join('\n');
    blocks.push(`${s.file} (line ${s.line}, suspiciousness ${s.score}):\n${body}`);
  }
  return `Failing tests:\n${failing || '- (the test command failed without naming tests)'}\n\nMost suspicious lines (marked >):\n${blocks.join('\n\n')}\n\nPropose up to ${MAX_MODEL_PATCHES} candidate fixes, most likely first. Answer with JSON only: {"patches": [{"file": "path", "line": N, "end_line": N (optional), "replacement": "the new text of lines line..end_line"}]}. Never change test files.`;
}

export async function modelCandidates(ctx: Pick<SearchCtx, 'llm'>, repo: string, analysis: Pick<Analysis, 'failing' | 'suspicious'>): Promise<ModelOutcome> {
  const none: ModelOutcome = { candidates: [], error: null, rejected: [], configured: true };
  if (analysis.suspicious.length === 0) return none;
  let reply: { content?: unknown };
  try {
    reply = (await ctx.llm.chat({
      messages: [
        { role: 'system', content: 'You repair bugs in JavaScript projects so that their failing tests pass without weakening any test. Answer with JSON only.' },
        { role: 'user', content: modelPrompt(repo, analysis) },
      ],
      max_tokens: 800,
    })) as { content?: unknown };
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'E_NO_LLM') return { ...none, configured: false };
    return { ...none, error: `${e.code ?? 'error'}: ${e.message}` };
  }
  const content = typeof reply.content === 'string' ? reply.content : '';
  const json = /[[{][\s\S]*[\]}]/.exec(content.replace(/```(?:json)?/g, ''))?.[0];
  let parsed: z.infer<typeof answer>;
  try {
    parsed = answer.parse(JSON.parse(json ?? ''));
  } catch {
    return { ...none, error: `the model's answer is not the JSON asked for: ${JSON.stringify(content.slice(0, 120))}` };
  }
  const list = Array.isArray(parsed) ? parsed : 'patches' in parsed ? parsed.patches : [parsed];
  const out: Candidate[] = [];
  const rejected: string[] = [];
  const known = new Map<string, Set<string>>();
  for (const [i, p] of list.slice(0, MAX_MODEL_PATCHES).entries()) {
    const file = normalize(p.file).split('\\').join('/');
    const where = `proposal ${i + 1} (${p.file}:${p.line})`;
    if (file.startsWith('..') || file.startsWith('/') || isTestFile(file)) {
      rejected.push(`${where}: ${isTestFile(file) ? 'edits a test file' : 'outside the repository'}`);
      continue;
    }
    let source: string;
    try {
      source = readFileSync(join(repo, file), 'utf8');
    } catch {
      rejected.push(`${where}: no such file`);
      continue;
    }
    const starts = lineStarts(source);
    const last = p.end_line ?? p.line;
    if (p.line > starts.length || last < p.line || last > starts.length) {
      rejected.push(`${where}: the file has no line ${last > starts.length ? last : p.line}`);
      continue;
    }
    const start = starts[p.line - 1]!;
    const nl = source.indexOf('\n', starts[last - 1]!);
    const end = nl < 0 ? source.length : nl;
    const replacement = p.replacement.replace(/\n$/, '');
    const original = source.slice(start, end);
    const c: Candidate = { id: `${file}:${start}:${end}:model:${replacement}`, file, line: p.line, start, end, original, replacement, kind: 'model', description: `${file}:${p.line}: model proposal ${i + 1}`, size: editSize(original, replacement), score: 2 - i * 0.01, source: 'model' };
    const seen = known.get(file) ?? new Set<string>();
    known.set(file, seen);
    if (original === replacement || dedupe(source, [c], seen).length === 0) {
      rejected.push(`${where}: ${original === replacement ? 'changes nothing' : 'does not parse, or repeats another proposal'}`);
      continue;
    }
    out.push(c);
  }
  return { candidates: out, error: out.length === 0 ? `no usable proposal (${rejected.join('; ')})` : null, rejected, configured: true };
}
