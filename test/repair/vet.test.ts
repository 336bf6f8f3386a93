/**
 * The differential check of plausible patches (vet-judge.ts, probe-run.ts, probe-inputs.ts) on real
 * candidate programs: a binary search whose plausible patches include one that still hangs on a miss,
 * an adult check where a rival changes the result next to a passing test, two clean patches the tests
 * cannot tell apart, and the anti-patterns. The programs run in real worker threads (the compiled
 * dist/src/repair/probe-worker.js: `npm run build` first, as `npm test` does); and the CLI on a suite
 * too weak to decide between two patches.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, expectAllGone, readJson, runCli, tempDir } from '../helpers.js';
import type { RunReport } from '../../src/observe/report.js';
import type { SearchResult } from '../../src/repair/search.js';
import { treeHash, writeRepo } from './repos.js';
import { callsIn, neighbours, probeInputs, toSource } from '../../src/repair/probe-inputs.js';
import { HANG, probeRun } from '../../src/repair/probe-run.js';
import { antiPattern, judgePlausible, type VetCandidate } from '../../src/repair/vet-judge.js';
import { mustSearchOn } from '../../src/repair/search.js';

afterAll(cleanupTempDirs);

const BSEARCH = (advance: string): string => `export function indexOf(sorted, target) {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === target) return mid;
    if (sorted[mid] < target) ${advance};
    else hi = mid - 1;
  }
  return -1;
}
`;
const BSEARCH_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexOf } from '../src/search.js';
test('finds the middle element', () => { assert.equal(indexOf([1, 3, 5, 7, 9], 5), 2); });
test('finds the first element', () => { assert.equal(indexOf([1, 3, 5], 1), 0); });
test('finds the last element', () => { assert.equal(indexOf([1, 3, 5, 7], 7), 3); });
`;

/** A repository copy per variant: `original` plus one per candidate task, each with src/<file>. */
function variants(file: string, test: string, sources: Record<string, string>): { root: string; dirs: Array<{ id: string; dir: string }> } {
  const root = tempDir('vet-');
  const dirs = Object.entries(sources).map(([id, src]) => {
    const dir = join(root, id);
    mkdirSync(join(dir, 'src'), { recursive: true });
    mkdirSync(join(dir, 'test'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, 'src', file), src);
    writeFileSync(join(dir, 'test', 'a.test.js'), test);
    return { id, dir };
  });
  return { root, dirs };
}

const cand = (task: string, kind: string, original: string, replacement: string): VetCandidate => ({ task, kind, original, replacement, description: `src/x.js:1: ${original} -> ${replacement}` });

describe('inputs from the tests', () => {
  it('reads the calls of each test with plain arguments, marks the failing tests, and derives neighbours', () => {
    const calls = callsIn('test/a.test.js', BSEARCH_TEST, new Set(['finds the last element']));
    expect(calls.map((c) => [c.file, c.fn, toSource(c.args), c.status])).toEqual([
      ['src/search.js', 'indexOf', '[[1, 3, 5, 7, 9], 5]', 'pass'],
      ['src/search.js', 'indexOf', '[[1, 3, 5], 1]', 'pass'],
      ['src/search.js', 'indexOf', '[[1, 3, 5, 7], 7]', 'fail'],
    ]);
    const near = neighbours([[1, 3, 5], 1]).map(toSource);
    expect(near).toContain('[[1, 3, 5], 2]');
    expect(near).toContain('[[1, 3], 1]');
    expect(near).toContain('[[], 1]');
    // Elements of an array are never changed (a sorted array stays sorted).
    expect(near.every((n) => n.startsWith('[[1, 3') || n.startsWith('[[3') || n.startsWith('[[]'))).toBe(true);
  });

  it('resolves constants, require() and namespace imports; skips computed arguments', () => {
    const src = `const { sum } = require('../src/m.js');\nconst m = require('../src/m.js');\nconst xs = [1, 2];\ntest('t', () => { sum(xs, -1); m.mean({ a: 1 }, undefined); sum(Math.random()); });\n`;
    const calls = callsIn('test/b.test.js', src, new Set());
    expect(calls.map((c) => `${c.fn} ${toSource(c.args)}`)).toEqual(['sum [[1, 2], -1]', 'mean [{"a": 1}, undefined]']);
  });

  it('reads table-driven tests: one call per row of for…of and forEach tables, nested tables multiplied', () => {
    const src = `import { test } from 'node:test';
import { clamp, pad } from '../src/m.js';
const cases = [[5, 0, 10], [-1, 0, 10]];
test('rows', () => {
  for (const [x, lo, hi] of cases) clamp(x, lo, hi);
  [{ s: 'a', n: 2 }, { s: 'bc', n: 1 }].forEach(({ s, n }) => pad(s, n));
  for (const w of [1, 2]) for (const c of ['x', 'y']) pad(c, w);
  for (const r of cases.map((q) => q[0])) clamp(r);
});
`;
    expect(callsIn('test/t.test.js', src, new Set()).map((c) => `${c.fn}${toSource(c.args)}`)).toEqual([
      'clamp[5, 0, 10]', 'clamp[-1, 0, 10]', 'pad["a", 2]', 'pad["bc", 1]', 'pad["x", 1]', 'pad["y", 1]', 'pad["x", 2]', 'pad["y", 2]',
    ]);
  });

  it('keeps seeds first and a failing seed failing when a neighbour repeats it', () => {
    const { dirs } = variants('search.js', BSEARCH_TEST, { original: BSEARCH('lo = mid') });
    const inputs = probeInputs(dirs[0]!.dir, ['test/a.test.js'], new Set(['finds the last element']));
    expect(inputs.slice(0, 3).every((i) => i.seed)).toBe(true);
    expect(inputs.find((i) => i.args === '[[1, 3, 5, 7], 7]')!.status).toBe('fail');
    expect(inputs.length).toBeGreaterThan(20);
  });
});

describe('the judgement on real candidate programs', () => {
  it('a patch that still hangs on a miss is not clean: the rival that does not hang is the fix', async () => {
    const { root, dirs } = variants('search.js', BSEARCH_TEST, { original: BSEARCH('lo = mid'), 'cand-1': BSEARCH('lo += mid'), 'cand-2': BSEARCH('lo = mid + 1') });
    const inputs = probeInputs(join(root, 'original'), ['test/a.test.js'], new Set(['finds the last element']));
    const run = await probeRun({ variants: dirs, inputs, perInputMs: 300 });
    expect(run.outputs['cand-1']).toContain(HANG);
    expect(run.outputs['cand-2']).not.toContain(HANG);
    const candidates = [cand('cand-1', 'assignment', 'lo = mid', 'lo += mid'), cand('cand-2', 'plus_minus_one', 'mid', 'mid + 1')];
    const d = judgePlausible({ candidates, inputs, outputs: run.outputs, unstable: run.unstable, baselineHung: true });
    expect(d.confidence).toBe('fix');
    expect(d.chosen).toBe('cand-2');
    expect(d.variants[0]!.anomalies).toBeGreaterThan(0);
    expect(d.variants[0]!.anomaly).toMatch(/-> hang/);
    // Alone, the hanging patch is only plausible.
    const alone = judgePlausible({ candidates: candidates.slice(0, 1), inputs, outputs: run.outputs, unstable: run.unstable, baselineHung: true });
    expect(alone.confidence).toBe('plausible');
    expect(alone.chosen).toBe('cand-1');
  }, 60_000);

  it('of two behaviours, the one that keeps the original next to the passing tests wins; with no such evidence, neither', async () => {
    const adult = (cond: string): string => `export const isAdult = (age) => ${cond};\n`;
    const test = `import { test } from 'node:test';\nimport { isAdult } from '../src/age.js';\ntest('eighteen', () => { isAdult(18); });\ntest('a child', () => { isAdult(5); });\n`;
    const { root, dirs } = variants('age.js', test, { original: adult('age > 18'), 'cand-1': adult('age > 5'), 'cand-2': adult('age >= 18') });
    const inputs = probeInputs(join(root, 'original'), ['test/a.test.js'], new Set(['eighteen']));
    const run = await probeRun({ variants: dirs, inputs });
    const candidates = [cand('cand-1', 'literal_to_var', '18', '5'), cand('cand-2', 'relational', '>', '>=')];
    const d = judgePlausible({ candidates, inputs, outputs: run.outputs, unstable: run.unstable, baselineHung: false });
    // `age > 5` turns isAdult(6), a neighbour of the passing isAdult(5), from false to true.
    expect(d.variants.find((v) => v.task === 'cand-1')!.drift).toBeGreaterThan(0);
    expect(d).toMatchObject({ confidence: 'fix', chosen: 'cand-2' });
    // Without the passing test, nothing tells the two apart: plausible, with the rival and an input.
    const onlyFailing = inputs.filter((i) => i.status === 'fail');
    const idx = onlyFailing.map((i) => inputs.indexOf(i));
    const outputs = Object.fromEntries(Object.entries(run.outputs).map(([k, v]) => [k, idx.map((i) => v[i]!)]));
    const u = judgePlausible({ candidates, inputs: onlyFailing, outputs, unstable: [], baselineHung: false });
    expect(u.confidence).toBe('plausible');
    expect(u.chosen).toBe('cand-1');
    expect(u.rivals[0]).toMatchObject({ task: 'cand-2' });
    expect(u.rivals[0]!.chosen_out).not.toBe(u.rivals[0]!.rival_out);
  }, 60_000);

  it('drift the failing tests explain keeps a fix; a patch they never show changing, or drift elsewhere, is only plausible', async () => {
    const PAGES = (count: string, guard: string, first = '(page - 1) * size'): string => `export function totalPages(n, size) {\n  if (n <= 0) return 1;\n  return Math.${count}(n / size);\n}\nexport function pageItems(items, page, size) {\n  const pages = totalPages(items.length, size);\n  if (page < 1 || ${guard}) return [];\n  return items.slice((page - 1) * size, page * size);\n}\nexport const firstIndex = (page, size) => ${first};\n`;
    const sources = { original: PAGES('floor', 'page > pages'), 'cand-1': PAGES('floor', 'page < pages'), 'cand-2': PAGES('ceil', 'page > pages') };
    const candidates = [cand('cand-1', 'relational', '>', '<'), cand('cand-2', 'method', 'floor', 'ceil')];
    // The failing test's call is computed (not a plain value): no input shows what must change.
    const hidden = `import { test } from 'node:test';\nimport { totalPages, pageItems } from '../src/p.js';\nconst nums = (n) => Array.from({ length: n }, (_, i) => i);\ntest('exact', () => { totalPages(100, 10); pageItems([], 1, 10); });\ntest('partial last page', () => { pageItems(nums(25), 3, 10); });\n`;
    const a = variants('p.js', hidden, sources);
    const inA = probeInputs(join(a.root, 'original'), ['test/a.test.js'], new Set(['partial last page']));
    expect(inA.some((i) => i.status === 'fail')).toBe(false);
    const runA = await probeRun({ variants: a.dirs, inputs: inA });
    const dA = judgePlausible({ candidates: candidates.slice(0, 1), inputs: inA, outputs: runA.outputs, unstable: runA.unstable, baselineHung: false });
    // The wrong guard keeps every neighbour of the passing calls, yet nothing confirms it: plausible.
    expect(dA.variants[0]).toMatchObject({ drift: 0, confirmed: false });
    expect(dA).toMatchObject({ confidence: 'plausible', chosen: 'cand-1' });
    // …so the search goes on looking for a patch the check can confirm.
    expect(mustSearchOn({ ...dA, probe_ms: 1, probe_error: null })).toBe(true);
    // The failing test calls totalPages with plain values: ceil changes totalPages(99, 10), next to a
    // passing call, but the failing call of totalPages changes too, so that drift is explained.
    const plain = `import { test } from 'node:test';\nimport { totalPages, pageItems, firstIndex } from '../src/p.js';\ntest('exact', () => { totalPages(100, 10); pageItems([], 1, 10); firstIndex(2, 10); });\ntest('partial', () => { totalPages(25, 10); });\n`;
    const b = variants('p.js', plain, sources);
    const inB = probeInputs(join(b.root, 'original'), ['test/a.test.js'], new Set(['partial']));
    const runB = await probeRun({ variants: b.dirs, inputs: inB });
    const dB = judgePlausible({ candidates: candidates.slice(1), inputs: inB, outputs: runB.outputs, unstable: runB.unstable, baselineHung: false });
    expect(dB.variants[0]!.drift).toBeGreaterThan(0);
    expect(dB.variants[0]).toMatchObject({ drift_unexplained: 0, confirmed: true });
    expect(dB).toMatchObject({ confidence: 'fix', chosen: 'cand-2' });
    expect(mustSearchOn({ ...dB, probe_ms: 1, probe_error: null })).toBe(false);
    // A patch that also changes firstIndex next to its passing call, where no failing input shows
    // firstIndex changing, is not explained by the tests: plausible.
    const both = variants('p.js', plain, { original: sources.original, 'cand-3': PAGES('ceil', 'page > pages', '(page - 1) * size + (page > 2 ? 1 : 0)') });
    const runC = await probeRun({ variants: both.dirs, inputs: inB });
    const dC = judgePlausible({ candidates: [cand('cand-3', 'pair', 'floor', 'ceil')], inputs: inB, outputs: runC.outputs, unstable: runC.unstable, baselineHung: false });
    expect(dC.variants[0]!.drift_unexplained).toBeGreaterThan(0);
    expect(dC.confidence).toBe('plausible');
  }, 60_000);

  it('a new throw is an anomaly; patches that agree everywhere are one behaviour', async () => {
    const first = (body: string): string => `export function first(xs) {\n  ${body}\n}\n`;
    const test = `import { test } from 'node:test';\nimport { first } from '../src/f.js';\ntest('first', () => { first([{ v: 1 }, { v: 2 }]); });\n`;
    const { dirs } = variants('f.js', test, { original: first('return xs[1].v;'), 'cand-1': first('return xs[0].v;'), 'cand-2': first('return xs.at(0).v;') });
    const inputs = probeInputs(dirs[0]!.dir, ['test/a.test.js'], new Set(['first']));
    const run = await probeRun({ variants: dirs, inputs });
    const d = judgePlausible({ candidates: [cand('cand-1', 'off_by_one', '1', '0'), cand('cand-2', 'method', 'xs[0]', 'xs.at(0)')], inputs, outputs: run.outputs, unstable: run.unstable, baselineHung: false });
    expect(d).toMatchObject({ confidence: 'fix', chosen: 'cand-1', rivals: [] });
    // list[i + 1] throws on a neighbour of the test's call (a one-element list) where the original returned.
    const nameOf = (e: string): string => `export const nameOf = (list, i) => ${e}.name;\n`;
    const t2 = `import { test } from 'node:test';\nimport { nameOf } from '../src/n.js';\ntest('name', () => { nameOf([{ name: 'a' }, { name: 'b' }], 0); });\n`;
    const v2 = variants('n.js', t2, { original: nameOf('list[i]'), 'cand-3': nameOf('list[i + 1]') });
    const in2 = probeInputs(v2.dirs[0]!.dir, ['test/a.test.js'], new Set(['name']));
    const r2 = await probeRun({ variants: v2.dirs, inputs: in2 });
    const e = judgePlausible({ candidates: [cand('cand-3', 'plus_minus_one', 'i', 'i + 1')], inputs: in2, outputs: r2.outputs, unstable: r2.unstable, baselineHung: false });
    expect(e.confidence).toBe('plausible');
    expect(e.variants[0]!.anomaly).toMatch(/^nameOf\(.*\) -> throws TypeError/);
  }, 60_000);
});

describe('anti-patterns', () => {
  it('deleting a guard or an exit is never a confident fix; other removals and guards are judged by behaviour', () => {
    expect(antiPattern({ kind: 'remove_stmt', original: 'if (n < 0) return 0;', replacement: '', description: '' })).toMatch(/deletes a guard/);
    expect(antiPattern({ kind: 'remove_stmt', original: 'break;', replacement: '', description: '' })).toMatch(/exit/);
    expect(antiPattern({ kind: 'remove_stmt', original: 'total += x;', replacement: '', description: '' })).toBeNull();
    expect(antiPattern({ kind: 'guard', original: '', replacement: 'if (n === 0) return 0;\n', description: '' })).toBeNull();
    expect(antiPattern({ kind: 'pair', original: '', replacement: '', description: 'src/a.js:3: `<` -> `<=` and remove `return x;`' })).toMatch(/deletes/);
    const d = judgePlausible({ candidates: [cand('t1', 'remove_stmt', 'if (x) return 1;', '')], inputs: [], outputs: {}, unstable: [], baselineHung: false });
    expect(d.confidence).toBe('plausible');
    expect(d.reason).toMatch(/deletes a guard/);
  });
});

describe('agentos repair with an under-constrained suite', () => {
  it('reports a plausible patch with its rival instead of a fix, exits 1, and --apply leaves the repository alone', async () => {
    // One test only: `age >= 18` and `!(age > 18)` both pass it and disagree on isAdult(19).
    const repo = writeRepo(tempDir('agentos-adult-'), {
      'package.json': JSON.stringify({ name: 'adult', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }),
      'src/age.js': 'export function isAdult(age) {\n  return age > 18;\n}\n',
      'test/age.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { isAdult } from '../src/age.js';\ntest('eighteen is adult', () => {\n  assert.equal(isAdult(18), true);\n});\n",
    });
    const before = treeHash(repo);
    const dir = tempDir();
    const out = join(dir, 'out');
    const res = await runCli(['repair', repo, '--out', out, '--runs-dir', join(dir, 'runs'), '--apply'], { timeoutMs: 150_000 });
    expect(res.exitCode, res.all).toBe(1);
    expect(res.all).toContain('PLAUSIBLE PATCH (not confirmed as the fix)');
    expect(res.all).toContain('--apply: a plausible patch is not applied (--apply-plausible applies it)');
    expect(treeHash(repo)).toBe(before);
    const report = readJson<RunReport>(join(out, 'run-report.json'));
    const search = report.tasks.find((t) => t.id === 'patch')!.output as SearchResult;
    expect(search.confidence).toBe('plausible');
    expect(search.vet!.rivals.length).toBeGreaterThan(0);
    expect(report.tasks.find((t) => t.id === 'report')!.output).toMatchObject({ fixed: false, plausible: true, confidence: 'plausible' });
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('- result: **PLAUSIBLE PATCH');
    expect(md).toMatch(/- rival: .* on `isAdult\(/);
    expect(existsSync(join(out, 'patch.diff'))).toBe(true);
    await expectAllGone(report.agents.flatMap((a) => a.pids));
  }, 170_000);
});
