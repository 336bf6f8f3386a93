/**
 * The KV store's invariants (tests call this after each step): each page's refcount equals the number of
 * page-table entries naming it; unreferenced pages are cached (hashed, in the LRU) or free, never both;
 * the pool never exceeds its capacity. Throws a plain Error on the first violation (a bug, not an input).
 */
import type { PagePool } from './page-pool.js';
import type { Page, Sequence } from './types.js';

export function checkInvariants(seqs: Iterable<Sequence>, pool: PagePool, blockSize: number, capacityPages: number): void {
  const counted = new Map<Page, number>();
  for (const seq of seqs) {
    if (seq.pages.length !== Math.ceil(seq.length / blockSize)) throw new Error(`${seq.id}: ${seq.pages.length} pages for ${seq.length} tokens`);
    seq.pages.forEach((p, i) => {
      counted.set(p, (counted.get(p) ?? 0) + 1);
      const expectUsed = i < seq.pages.length - 1 ? blockSize : seq.length - i * blockSize;
      if (p.used < expectUsed) throw new Error(`${seq.id}: page ${p.id} holds ${p.used} tokens, sequence needs ${expectUsed}`);
    });
  }
  for (const [p, n] of counted) if (p.refs !== n) throw new Error(`page ${p.id}: refs ${p.refs}, referenced ${n} times`);
  for (const p of pool.lru.values()) {
    if (p.refs !== 0 || !p.cached || p.hash === undefined || pool.byHash.get(p.hash) !== p) throw new Error(`cached page ${p.id} is not a clean unreferenced cache entry`);
  }
  for (const p of pool.free) if (p.refs !== 0 || p.cached) throw new Error(`free page ${p.id} is still referenced or cached`);
  for (const p of pool.byHash.values()) if (p.refs === 0 && !pool.lru.has(p.id)) throw new Error(`hashed page ${p.id} unreferenced but not in the LRU`);
  if (pool.allocated > capacityPages) throw new Error(`allocated ${pool.allocated} > capacity ${capacityPages}`);
  if (counted.size + pool.lru.size + pool.free.length !== pool.allocated) {
    throw new Error(`page accounting: ${counted.size} referenced + ${pool.lru.size} cached + ${pool.free.length} free != ${pool.allocated} allocated`);
  }
}
