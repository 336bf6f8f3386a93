/**
 * The fix-pattern search space (one family at a time, on small sources), its filtering (parse and
 * normal-form duplicates), ranking and budget, two-edit candidates, model proposals' checks, and
 * coverage of `} else if (…)` lines from a real V8 coverage run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '../helpers.js';
import { pairBudget, pairCandidates, rankCandidates, singleBudget } from '../../src/repair/candidates.js';
import { executedLines } from '../../src/repair/coverage.js';
import { declaredTests } from '../../src/repair/baseline.js';
import { modelCandidates } from '../../src/repair/model.js';
import { applyMutant, mutantsOf, normalForm, parses } from '../../src/repair/mutate.js';

afterAll(cleanupTempDirs);

/** Every fixed source reachable by one mutant of `src`, per kind. */
function fixes(src: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of mutantsOf('f.js', src)) out.set(m.kind, [...(out.get(m.kind) ?? []), applyMutant(src, m)]);
  return out;
}
const reaches = (src: string, kind: string, fixed: string): boolean => (fixes(src).get(kind) ?? []).some((s) => normalForm(s) === normalForm(fixed));

describe('fix patterns', () => {
  it('operators: bitwise, equality boundary, compound assignment, method families, argument and string-operand swaps', () => {
    expect(reaches('export const p = (n) => (n | (n - 1)) === 0;\n', 'bitwise', 'export const p = (n) => (n & (n - 1)) === 0;\n')).toBe(true);
    expect(reaches('export function f(c, x) { c[x] = 1; return c; }\n', 'assignment', 'export function f(c, x) { c[x] += 1; return c; }\n')).toBe(true);
    expect(reaches('export const e = (f, x) => f.startsWith(x);\n', 'method', 'export const e = (f, x) => f.endsWith(x);\n')).toBe(true);
    expect(reaches('export const p = (t, n) => Math.floor(t / n);\n', 'method', 'export const p = (t, n) => Math.ceil(t / n);\n')).toBe(true);
    expect(reaches('export const v = (x) => clamp(x, 100, 0);\n', 'swap_args', 'export const v = (x) => clamp(x, 0, 100);\n')).toBe(true);
    expect(reaches('export const n = (b, s) => s + b;\n', 'swap_operands', 'export const n = (b, s) => b + s;\n')).toBe(true);
    expect(reaches('export function f(x, n) { if (x === n) return 1; return 0; }\n', 'equality', 'export function f(x, n) { if (x >= n) return 1; return 0; }\n')).toBe(true);
  });

  it('expressions: variable swap, ±1 on an index, literal to variable, clamp, widen, square', () => {
    const loop = 'export function f(xs) {\n  let best = -1;\n  for (let i = 0; i < xs.length; i++) {\n    const s = xs[i];\n    if (s > best) best = i;\n  }\n  return best;\n}\n';
    expect(reaches(loop, 'variable', loop.replace('best = i;', 'best = s;'))).toBe(true);
    expect(reaches('export const l = (w) => w[w.length];\n', 'plus_minus_one', 'export const l = (w) => w[w.length - 1];\n')).toBe(true);
    const rep = "export function r(s, n) {\n  let o = '';\n  for (let i = 0; i < 3; i++) o += s;\n  return o;\n}\n";
    expect(reaches(rep, 'literal_to_var', rep.replace('i < 3', 'i < n'))).toBe(true);
    expect(reaches('export function r(b, s) {\n  return b - s;\n}\n', 'clamp', 'export function r(b, s) {\n  return Math.max(0, b - s);\n}\n')).toBe(true);
    const win = 'export function f(rs, lo, hi) {\n  const k = rs.filter((r) => r <= hi).length;\n  let o = 0;\n  for (const r of rs) if (r < lo) o++;\n  return o + k;\n}\n';
    expect(reaches(win, 'widen', win.replace('if (r < lo)', 'if (r < lo || !(r <= hi))'))).toBe(true);
    const d = 'export function d(a, b, dy) {\n  const dx = b - a;\n  return Math.sqrt(dx + dy * dy);\n}\n';
    expect(reaches(d, 'square', d.replace('const dx = b - a;', 'const dx = (b - a) * (b - a);'))).toBe(true);
  });

  it('statements: guard, guarded call after a loop, remove, swap', () => {
    const avg = 'export function a(xs) {\n  let s = 0;\n  for (const x of xs) s += x;\n  return s / xs.length;\n}\n';
    expect(reaches(avg, 'guard', avg.replace('  let s = 0;', '  if (xs.length === 0) return 0;\n  let s = 0;'))).toBe(true);
    const chunks = 'export function c(xs, n) {\n  const out = [];\n  let cur = [];\n  for (const x of xs) {\n    cur.push(x);\n    if (cur.length === n) {\n      out.push(cur);\n      cur = [];\n    }\n  }\n  return out;\n}\n';
    expect(reaches(chunks, 'insert_call', chunks.replace('  return out;', '  if (cur.length > 0) out.push(cur);\n  return out;'))).toBe(true);
    const tot = 'export function t(ls) {\n  let s = 0;\n  for (const l of ls) {\n    s = 0;\n    s += l;\n  }\n  return s;\n}\n';
    expect(reaches(tot, 'remove_stmt', tot.replace('    s = 0;\n', ''))).toBe(true);
    const mv = 'export function m(w, s) {\n  if (w.length > 2) {\n    w.shift();\n    s -= w[0];\n  }\n  return s;\n}\n';
    expect(reaches(mv, 'swap_stmts', mv.replace('    w.shift();\n    s -= w[0];', '    s -= w[0];\n    w.shift();'))).toBe(true);
  });

  it('drops mutants that do not parse, change nothing, or duplicate another after normalisation', () => {
    const src = 'export function f(a, b) {\n  return (a - b) + (a[0] - 1);\n}\n';
    const ms = mutantsOf('f.js', src);
    const forms = ms.map((m) => normalForm(applyMutant(src, m)));
    expect(ms.every((m) => parses(applyMutant(src, m)))).toBe(true);
    expect(new Set(forms).size).toBe(forms.length);
    expect(forms).not.toContain(normalForm(src));
  });
});

describe('ranking, budget and pairs', () => {
  it('ranks by suspiciousness x prior, grows the budget with the space, and pairs neighbouring edits', () => {
    const repo = tempDir();
    const src = 'export function s(xs, lo, hi) {\n  let t = 0;\n  for (let i = lo + 1; i < hi; i++) t += xs[i];\n  return t;\n}\n';
    mkdirSync(join(repo, 'src'));
    writeFileSync(join(repo, 'src/r.js'), src);
    const analysis = { suspicious: [{ file: 'src/r.js', line: 3, score: 1, ef: 1, ep: 0, inStack: false }, { file: 'src/r.js', line: 2, score: 0.5, ef: 1, ep: 1, inStack: false }], source_files: ['src/r.js'] };
    const ranked = rankCandidates(repo, analysis);
    expect(ranked[0]!.line).toBe(3);
    expect(ranked[0]!.kind).toBe('relational');
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.score).toBeGreaterThanOrEqual(ranked[i]!.score);
    expect(singleBudget(30, 'auto')).toBe(30);
    expect(singleBudget(1000, 'auto')).toBe(600);
    expect(singleBudget(300, 'auto')).toBe(250);
    // A number is a cap, not a floor.
    expect(singleBudget(300, 40)).toBe(40);
    expect(singleBudget(30, 40)).toBe(30);
    expect(pairBudget(600)).toBe(150);
    const pairs = pairCandidates(repo, ranked, 200);
    const fixed = src.replace('lo + 1; i < hi', 'lo + 0; i <= hi');
    expect(pairs.some((p) => normalForm(applyMutant(src, p)) === normalForm(fixed))).toBe(true);
    const singles = new Set(ranked.map((m) => normalForm(applyMutant(src, m))));
    expect(pairs.every((p) => !singles.has(normalForm(applyMutant(src, p))))).toBe(true);
  });
});

describe('model proposals', () => {
  it('keeps proposals that parse and change a source file; refuses test files, missing lines, no-ops and repeats', async () => {
    const repo = tempDir();
    mkdirSync(join(repo, 'src'));
    mkdirSync(join(repo, 'test'));
    writeFileSync(join(repo, 'src/a.js'), 'export function f(x) {\n  return x - 1;\n}\n');
    writeFileSync(join(repo, 'test/a.test.js'), '// tests\n');
    const patches = [
      { file: 'src/a.js', line: 2, replacement: '  return x + 1;' },
      { file: 'test/a.test.js', line: 1, replacement: '// no tests' },
      { file: 'src/a.js', line: 99, replacement: 'x' },
      { file: 'src/a.js', line: 2, replacement: '  return x - 1;' },
      { file: 'src/a.js', line: 2, replacement: '  return (x +;' },
    ];
    const ctx = { llm: { chat: async () => ({ content: `Here you go:\n\`\`\`json\n${JSON.stringify({ patches })}\n\`\`\`` }) } };
    const analysis = { failing: [{ name: 't', location: undefined, error: 'boom', frames: [] }], suspicious: [{ file: 'src/a.js', line: 2, score: 1, ef: 1, ep: 0, inStack: false }] };
    const r = await modelCandidates(ctx, repo, analysis);
    expect(r.candidates.map((c) => c.replacement)).toEqual(['  return x + 1;']);
    expect(r.candidates[0]).toMatchObject({ source: 'model', kind: 'model' });
    expect(r.rejected).toHaveLength(4);
    expect(r.rejected.join(' ')).toMatch(/test file.*no line 99.*changes nothing.*does not parse/);
    const bad = await modelCandidates({ llm: { chat: async () => ({ content: 'I think the bug is on line 2.' }) } }, repo, analysis);
    expect(bad.candidates).toEqual([]);
    expect(bad.error).toContain('not the JSON asked for');
    const none = await modelCandidates({ llm: { chat: async () => Promise.reject(Object.assign(new Error('no model'), { code: 'E_NO_LLM' })) } }, repo, analysis);
    expect(none).toMatchObject({ configured: false, error: null, candidates: [] });
  });
});

describe('localisation inputs', () => {
  it('counts a `} else if (…)` condition as run when only the else branch is reached', async () => {
    const dir = tempDir();
    const src = 'export function g(s) {\n  if (s >= 90) {\n    return "A";\n  } else if (s > 80) {\n    return "B";\n  }\n  return "F";\n}\ng(50);\n';
    writeFileSync(join(dir, 'g.mjs'), src);
    const cov = join(dir, 'cov');
    await execa('node', ['g.mjs'], { cwd: dir, env: { NODE_V8_COVERAGE: cov } });
    const lines = executedLines(cov, dir, () => true).get('g.mjs')!;
    expect(lines.has(4)).toBe(true); // the else-if condition ran
    expect(lines.has(3)).toBe(false);
    expect(lines.has(5)).toBe(false);
  });

  it('lists the tests a file declares (for a file that hung before reporting any)', () => {
    expect(declaredTests("import { test, describe, it } from 'node:test';\ntest('a', () => {});\ndescribe('s', () => { it('b', () => {}); });\ntest(`t${1}`, () => {});\n")).toEqual(['a', 'b']);
  });
});
