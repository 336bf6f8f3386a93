/**
 * Refcount / copy-on-write invariants of the KV page store, checked by fast-check against a reference
 * model that is just "each sequence is an array of tokens". After every command the store must hold
 * exactly the model's tokens, every slot's bytes must equal the synthetic payload of (token, position),
 * and the store's own invariants (refcounts = page-table references, LRU/free list clean) must hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvPageStore } from '../../src/kvcache/store.js';
import { syntheticSlot } from '../../src/kvcache/payload.js';

type Model = Map<string, { owner: string; tokens: number[] }>;
interface Real {
  store: KvPageStore;
  ids: string[];
}

const OWNERS = ['a#1', 'b#1', 'c#2'];
const tokenArb = fc.integer({ min: 0, max: 5 }); // a tiny vocabulary so identical blocks (prefix hits) happen
const tokensArb = fc.array(tokenArb, { maxLength: 20 });

function checkAgainstModel(model: Model, real: Real): void {
  const store = real.store;
  store.checkInvariants();
  let logical = 0;
  for (const [id, m] of model) {
    const r = store.read(m.owner, id);
    expect(r.tokens).toEqual(m.tokens);
    logical += Math.ceil(m.tokens.length / store.blockSize);
    // Bytes of the first and last slot (cheap) match a fresh computation.
    for (const pos of new Set([0, m.tokens.length - 1].filter((p) => p >= 0 && p < m.tokens.length))) {
      const want = Buffer.from(syntheticSlot(store.width, m.tokens[pos]!, pos).buffer);
      expect(store.slotBytes(m.owner, id, pos).equals(want)).toBe(true);
    }
  }
  const st = store.stats();
  expect(st.sequences).toBe(model.size);
  expect(st.logical_pages).toBe(logical);
  expect(st.physical_pages).toBeLessThanOrEqual(st.logical_pages);
  expect(st.bytes_saved).toBe((st.logical_pages - st.physical_pages) * st.page_bytes);
}

const pick = (ids: string[], i: number): string | undefined => (ids.length === 0 ? undefined : ids[i % ids.length]);

class CreateCmd implements fc.Command<Model, Real> {
  constructor(readonly owner: string, readonly tokens: number[]) {}
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    const { seq } = real.store.create(this.owner, this.tokens);
    model.set(seq, { owner: this.owner, tokens: [...this.tokens] });
    real.ids.push(seq);
    checkAgainstModel(model, real);
  }
  toString = (): string => `create(${this.owner}, [${this.tokens.join(',')}])`;
}

class AppendCmd implements fc.Command<Model, Real> {
  constructor(readonly i: number, readonly tokens: number[]) {}
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    const id = pick(real.ids, this.i);
    if (!id) return;
    const m = model.get(id)!;
    real.store.append(m.owner, id, this.tokens);
    m.tokens.push(...this.tokens);
    checkAgainstModel(model, real);
  }
  toString = (): string => `append(#${this.i}, [${this.tokens.join(',')}])`;
}

class ForkCmd implements fc.Command<Model, Real> {
  constructor(readonly i: number) {}
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    const id = pick(real.ids, this.i);
    if (!id) return;
    const m = model.get(id)!;
    const { seq } = real.store.fork(m.owner, id);
    model.set(seq, { owner: m.owner, tokens: [...m.tokens] });
    real.ids.push(seq);
    checkAgainstModel(model, real);
  }
  toString = (): string => `fork(#${this.i})`;
}

class FreeCmd implements fc.Command<Model, Real> {
  constructor(readonly i: number) {}
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    const id = pick(real.ids, this.i);
    if (!id) return;
    real.store.freeSeq(model.get(id)!.owner, id);
    model.delete(id);
    real.ids.splice(real.ids.indexOf(id), 1);
    checkAgainstModel(model, real);
  }
  toString = (): string => `free(#${this.i})`;
}

class ReleaseOwnerCmd implements fc.Command<Model, Real> {
  constructor(readonly owner: string) {}
  check = (): boolean => true;
  run(model: Model, real: Real): void {
    real.store.releaseOwner(this.owner);
    for (const [id, m] of [...model]) {
      if (m.owner !== this.owner) continue;
      model.delete(id);
      real.ids.splice(real.ids.indexOf(id), 1);
    }
    checkAgainstModel(model, real);
    expect(real.store.sequencesOf(this.owner)).toEqual([]);
  }
  toString = (): string => `releaseOwner(${this.owner})`;
}

const commands = [
  fc.tuple(fc.constantFrom(...OWNERS), tokensArb).map(([o, t]) => new CreateCmd(o, t)),
  fc.tuple(fc.nat(), tokensArb).map(([i, t]) => new AppendCmd(i, t)),
  fc.nat().map((i) => new ForkCmd(i)),
  fc.nat().map((i) => new FreeCmd(i)),
  fc.constantFrom(...OWNERS).map((o) => new ReleaseOwnerCmd(o)),
];

describe('KvPageStore against a reference model', () => {
  it.each([
    ['prefix caching on', true],
    ['prefix caching off', false],
  ])('keeps tokens, payload bytes and refcounts right under any command sequence (%s)', (_name, prefixCaching) => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        const real: Real = { store: new KvPageStore({ blockSize: 4, width: 2, prefixCaching }), ids: [] };
        fc.modelRun(() => ({ model: new Map() as Model, real }), cmds);
        // Freeing everything leaves no referenced page: only cached (evictable) or free ones.
        for (const o of OWNERS) real.store.releaseOwner(o);
        const st = real.store.stats();
        expect(st.physical_pages).toBe(0);
        expect(st.cached_pages + 0).toBeLessThanOrEqual(st.allocated_pages);
        real.store.checkInvariants();
      }),
      { numRuns: 150 },
    );
  });

  it('never exceeds its capacity: evicts unreferenced cached pages, refuses when all pages are referenced, all or nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...OWNERS), tokensArb, fc.boolean()), { maxLength: 40 }), (steps) => {
        const store = new KvPageStore({ blockSize: 4, width: 2, capacityPages: 6 });
        const live: Array<{ owner: string; seq: string; tokens: number[] }> = [];
        for (const [owner, tokens, freeOne] of steps) {
          const before = store.stats();
          try {
            const { seq } = store.create(owner, tokens);
            live.push({ owner, seq, tokens });
          } catch (err) {
            expect((err as { code?: string }).code).toBe('E_KV_FULL');
            // a refused create changes no page
            const after = store.stats();
            expect(after.physical_pages).toBe(before.physical_pages);
            expect(after.sequences).toBe(before.sequences);
          }
          if (freeOne && live.length > 0) {
            const s = live.shift()!;
            store.freeSeq(s.owner, s.seq);
          }
          store.checkInvariants();
          for (const s of live) expect(store.read(s.owner, s.seq).tokens).toEqual(s.tokens);
          expect(store.stats().allocated_pages).toBeLessThanOrEqual(6);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('KvPageStore: sharing, copy-on-write and prefix hits (worked example)', () => {
  it('shares a prefix, copies a shared partial page on write, and hits the prefix cache', () => {
    const store = new KvPageStore({ blockSize: 4, width: 2 });
    const prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]; // 2 full blocks + 2 tokens
    const a = store.create('a#1', prompt);
    expect(a.prefix_hits).toBe(0);
    const f = store.fork('a#1', a.seq);
    let st = store.stats();
    expect(st.logical_pages).toBe(6);
    expect(st.physical_pages).toBe(3);
    store.append('a#1', f.seq, [11]); // the shared partial page is copied
    st = store.stats();
    expect(st.cow_copies).toBe(1);
    expect(st.physical_pages).toBe(4);
    expect(store.read('a#1', a.seq).tokens).toEqual(prompt);
    expect(store.read('a#1', f.seq).tokens).toEqual([...prompt, 11]);
    const b = store.create('b#1', prompt); // another agent, same system prompt
    expect(b.prefix_hits).toBe(2);
    expect(store.stats().prefix_hit_rate).toBeCloseTo(2 / 3); // 1 lookup missed (first create), 2 hit
    // pro rata: the two full pages are shared three ways (a, fork of a, b)
    const charges = store.charges();
    expect(charges.get('b#1')).toBeCloseTo((2 * store.pageBytes) / 3 + store.pageBytes);
    // another owner cannot touch a's sequence
    expect(() => store.freeSeq('b#1', a.seq)).toThrow(/no sequence/);
    store.releaseOwner('a#1');
    store.releaseOwner('b#1');
    st = store.stats();
    expect(st.physical_pages).toBe(0);
    expect(st.cached_pages).toBe(2);
    store.checkInvariants();
  });

  it('evicts the least recently released cached page when the pool is full, and counts it', () => {
    const store = new KvPageStore({ blockSize: 4, width: 2, capacityPages: 4 });
    const a = store.create('a#1', [1, 2, 3, 4, 5, 6, 7, 8]); // 2 full pages, both cached
    store.freeSeq('a#1', a.seq);
    expect(store.stats()).toMatchObject({ physical_pages: 0, cached_pages: 2, evictions: 0 });
    const b = store.create('b#1', [9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7, 6, 6, 6, 6]); // needs all 4 pages
    expect(store.stats()).toMatchObject({ physical_pages: 4, cached_pages: 0, evictions: 2 });
    expect(store.read('b#1', b.seq).tokens).toHaveLength(16);
    // the evicted prefix is gone from the cache: a new create of it misses (and the pool is full)
    expect(() => store.create('c#1', [1, 2, 3, 4])).toThrow(/pool full/);
    store.checkInvariants();
  });
});
