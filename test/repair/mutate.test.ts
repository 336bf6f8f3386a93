import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '../helpers.js';
import { unifiedDiff } from '../../src/repair/diff.js';
import { localise } from '../../src/repair/localise.js';
import { applyMutant, mutantsOf } from '../../src/repair/mutate.js';
import { parseTap } from '../../src/repair/tap.js';

afterAll(cleanupTempDirs);

describe('mutation operators', () => {
  const src = `// a < b in a comment stays
export function f(a, b, xs) {
  const s = "a - b";
  if (a < b && xs.length > 0) return a - b;
  for (let i = 0; i < xs.length; i++) a += xs[i];
  return !a ? true : a % 2;
}
`;
  const ms = mutantsOf('f.js', src);
  const kinds = (k: string) => ms.filter((m) => m.kind === k).map((m) => `${m.original}->${m.replacement}`);

  it('covers operator swaps, off-by-one, negation, swapped operands, ++/-- and compound assignment', () => {
    expect(kinds('relational')).toEqual(expect.arrayContaining(['<-><=', '<->>', '>->>=', '>-><']));
    expect(kinds('arithmetic')).toEqual(expect.arrayContaining(['-->+', '%->*']));
    expect(kinds('logical')).toEqual(['&&->||']);
    expect(kinds('off_by_one')).toEqual(expect.arrayContaining(['0->1', '2->3', '2->1']));
    expect(kinds('negate')).toEqual(expect.arrayContaining(['a < b && xs.length > 0->!(a < b && xs.length > 0)', '!a->a']));
    expect(kinds('swap_operands')).toEqual(expect.arrayContaining(['a - b->b - a', 'a < b->b < a']));
    expect(kinds('update')).toEqual(expect.arrayContaining(['i++->i--', 'i++->++i']));
    expect(kinds('assignment')).toEqual(expect.arrayContaining(['+=->-=', '+=->=']));
    expect(kinds('boolean')).toEqual(['true->false']);
  });

  it('never touches comments or strings, and every mutant parses', () => {
    expect(ms.every((m) => m.line > 1)).toBe(true);
    const str = src.indexOf('"a - b"');
    expect(ms.some((m) => m.start > str && m.start < str + 7)).toBe(false);
    for (const m of ms) expect(() => new Function(applyMutant(src, m).replace('export ', ''))).not.toThrow();
  });
});

describe('unified diff', () => {
  it('applies with patch -p1', async () => {
    const dir = tempDir();
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const after = before.replace('line 10', 'line ten');
    writeFileSync(join(dir, 'a.txt'), before);
    writeFileSync(join(dir, 'p.diff'), unifiedDiff('a.txt', before, after));
    const r = await execa('patch', ['-p1', '-i', 'p.diff'], { cwd: dir, reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe(after);
    expect(unifiedDiff('a.txt', before, before)).toBe('');
  });

  it('marks a last line without a newline so patch -p1 restores it exactly', async () => {
    const dir = tempDir();
    const { readFileSync } = await import('node:fs');
    for (const [before, after] of [
      ['a\nb\nc', 'a\nb\nC'],
      ['x\ny\n', 'x\nY\n'],
      ['one', 'two'],
      ['p\nq', 'p\nq\n'],
    ] as const) {
      writeFileSync(join(dir, 'f.txt'), before);
      writeFileSync(join(dir, 'p.diff'), unifiedDiff('f.txt', before, after));
      const r = await execa('patch', ['-p1', '-i', 'p.diff'], { cwd: dir, reject: false, all: true });
      expect(r.exitCode, `${JSON.stringify(before)}: ${r.all}`).toBe(0);
      expect(readFileSync(join(dir, 'f.txt'), 'utf8')).toBe(after);
    }
  });
});

describe('fault localisation', () => {
  it('ranks lines run only by failing tests above lines run by all, and boosts stack lines', () => {
    const runs = [
      { label: 't1', failed: true, lines: { 'a.js': [1, 2, 3] } },
      { label: 't2', failed: false, lines: { 'a.js': [1, 2] } },
      { label: 't3', failed: false, lines: { 'a.js': [1] } },
    ];
    const ranked = localise(runs, ['a.js:2']);
    expect(ranked.map((r) => r.line)).toEqual([2, 3, 1]);
    expect(ranked[1]).toMatchObject({ line: 3, score: 1, ef: 1, ep: 0 });
  });

  it('reads node --test TAP: names, verdicts, locations, stack frames', () => {
    const tap = ['TAP version 13', '# Subtest: adds', 'ok 1 - adds', '  ---', '  duration_ms: 1', '  ...', '# Subtest: subtracts', 'not ok 2 - subtracts', '  ---', "  location: '/r/test/a.test.js:5:1'", "  error: |-", '    Expected 1', '    ', '  stack: |-', '    TestContext.<anonymous> (file:///r/src/a.js:3:10)', '  ...', '# pass 1', '# fail 1'].join('\n');
    const r = parseTap(tap);
    expect(r.tests.map((t) => [t.name, t.ok])).toEqual([['adds', true], ['subtracts', false]]);
    expect(r.tests[1]).toMatchObject({ location: '/r/test/a.test.js:5:1', frames: ['/r/src/a.js:3'] });
    expect(r.tests[1]!.error).toContain('Expected 1');
    expect([r.pass, r.fail]).toEqual([1, 1]);
  });
});
