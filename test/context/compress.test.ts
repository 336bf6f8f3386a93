/** The compressor with the real BPE tokenizer: stays within budget, keeps critical and newest entries verbatim. */
import { describe, expect, it } from 'vitest';
import { compressContext, type ContextEntry } from '../../src/context/compress.js';
import { loadTokenizer } from '../../src/context/tokenizer.js';

const LONG = 'The kernel forks every agent as a real child process and talks to it over IPC. '.repeat(12);

function entries(): ContextEntry[] {
  const out: ContextEntry[] = [
    { id: 'dep:analyze', source: 'dependency', key: 'analyze', text: '[analyze] {"operator":"-","want":"+"}', order: 0, critical: true, superseded: false },
    { id: 'dep:plan', source: 'dependency', key: 'plan', text: `[plan] ${LONG}`, order: 1, critical: true, superseded: false },
  ];
  for (let i = 0; i < 10; i++) {
    out.push({ id: `mem:n${i}@1`, source: 'memory', key: `n${i}`, text: `n${i}: old ${LONG}`, order: 2 + i, critical: false, superseded: true });
  }
  for (let i = 0; i < 10; i++) {
    out.push({ id: `mem:n${i}@2`, source: 'memory', key: `n${i}`, text: `n${i}: note ${i} ${LONG}`, order: 20 + i, critical: false, superseded: false });
  }
  out.push({ id: 'mem:d1@1', source: 'memory', key: 'd1', text: 'same', order: 40, critical: false, superseded: false });
  out.push({ id: 'mem:d2@1', source: 'memory', key: 'd2', text: 'same', order: 41, critical: false, superseded: false });
  out.push({ id: 'mem:last@1', source: 'memory', key: 'last', text: `last: ${LONG}`, order: 42, critical: false, superseded: false });
  return out;
}

describe('compressContext', () => {
  it('counts with a real BPE tokenizer, not characters / 4', async () => {
    const tok = await loadTokenizer();
    expect(tok.name).toBe('cl100k_base');
    expect(tok.count('hello world')).toBe(2);
    expect(tok.count('supercalifragilisticexpialidocious')).not.toBe(Math.ceil('supercalifragilisticexpialidocious'.length / 4));
  });

  it.each([300, 500, 900, 2000])('fits budget %i, keeps dependency outputs and the newest entries verbatim', async (budget) => {
    const tok = await loadTokenizer();
    const input = entries();
    const r = compressContext(input, budget, tok);
    expect(r.tokens_before).toBe(input.reduce((s, e) => s + tok.count(e.text), 0));
    expect(r.tokens_after).toBeLessThanOrEqual(budget);
    expect(r.tokens_after).toBe(r.entries.reduce((s, e) => s + tok.count(e.text), 0));
    for (const dep of input.filter((e) => e.critical)) {
      const kept = r.entries.find((e) => e.id === dep.id);
      expect(kept?.text).toBe(dep.text);
      expect(kept?.verbatim).toBe(true);
    }
    // the newest entry stays verbatim while it fits at all
    const last = r.entries.find((e) => e.id === 'mem:last@1');
    if (last) expect(last.text).toBe(input.at(-1)!.text);
    expect(r.compressed).toBe(true);
    expect(r.superseded_dropped).toBe(10);
    expect(r.entries.some((e) => e.id.endsWith('@1') && e.key.startsWith('n'))).toBe(false);
  });

  it('deduplicates identical text and summarises old long entries before dropping anything', async () => {
    const tok = await loadTokenizer();
    const r = compressContext(entries(), 900, tok);
    expect(r.deduplicated).toBe(1);
    expect(r.entries.filter((e) => e.text === 'same')).toHaveLength(1);
    expect(r.summarised).toBeGreaterThan(0);
    expect(r.entries.filter((e) => !e.verbatim).every((e) => e.text.includes('[summarised:'))).toBe(true);
    expect(r.dropped).toBe(0);
  });

  it('is deterministic and leaves a context under budget untouched', async () => {
    const tok = await loadTokenizer();
    expect(compressContext(entries(), 500, tok)).toEqual(compressContext(entries(), 500, tok));
    const small = entries().slice(0, 1);
    const r = compressContext(small, 1000, tok);
    expect(r.compressed).toBe(false);
    expect(r.entries[0]!.text).toBe(small[0]!.text);
  });

  it('says so when the critical entries alone exceed the budget, and cuts none of them', async () => {
    const tok = await loadTokenizer();
    const r = compressContext(entries(), 50, tok);
    expect(r.over_budget).toBe(true);
    expect(r.entries.map((e) => e.id)).toEqual(['dep:analyze', 'dep:plan']);
  });
});
