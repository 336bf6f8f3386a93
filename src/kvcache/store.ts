/**
 * The KV-cache page store (vLLM style): a parent-owned pool of fixed-size pages backed by real Buffers,
 * sequences with page tables, reference counts, copy-on-write, prefix caching by a chained hash of each
 * full block's tokens, and an LRU of unreferenced cached pages evicted under the pool's capacity.
 *
 * Tokens are append-only, so only the last (partly filled) page of a sequence is ever written; full pages
 * are immutable and are the only ones entered in the prefix cache. Every sequence has one owner (an agent
 * process key); the kernel frees all of an owner's sequences when its process ends, so a crash never
 * leaks a page.
 */
import { createHash } from 'node:crypto';
import { checkInvariants } from './invariants.js';
import { PagePool } from './page-pool.js';
import { bytesPerToken, writeSynthetic } from './payload.js';
import { KvError, type KvStats, type KvStoreOptions, type Page, type Sequence } from './types.js';

export { KvError, type KvStats, type KvStoreOptions } from './types.js';

const ROOT_HASH = '';
const MAX_SEQS_PER_OWNER = 100_000;

export class KvPageStore {
  readonly blockSize: number;
  readonly width: number;
  readonly capacityPages: number;
  readonly prefixCaching: boolean;
  readonly pageBytes: number;
  private readonly floatsPerToken: number;
  private nextSeq = 0;
  private readonly pool: PagePool;
  private readonly seqs = new Map<string, Sequence>();
  private readonly byOwner = new Map<string, Set<string>>();
  private cow = 0;
  private lookups = 0;
  private hits = 0;

  constructor(opts: KvStoreOptions = {}) {
    this.blockSize = opts.blockSize ?? 16;
    this.width = opts.width ?? 64;
    this.capacityPages = opts.capacityPages ?? 65_536;
    this.prefixCaching = opts.prefixCaching ?? true;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 1) throw new KvError('E_KV_CONFIG', `blockSize must be a positive integer, got ${this.blockSize}`);
    if (!Number.isInteger(this.width) || this.width < 1) throw new KvError('E_KV_CONFIG', `width must be a positive integer, got ${this.width}`);
    if (!Number.isInteger(this.capacityPages) || this.capacityPages < 1) throw new KvError('E_KV_CONFIG', `capacityPages must be a positive integer, got ${this.capacityPages}`);
    this.floatsPerToken = 2 * this.width;
    this.pageBytes = this.blockSize * bytesPerToken(this.width);
    this.pool = new PagePool(this.blockSize, this.pageBytes, this.capacityPages);
  }

  // ---- sequences ------------------------------------------------------------------------------

  /** A new sequence holding `tokens`; full blocks already in the prefix cache are shared, not written. */
  create(owner: string, tokens: readonly number[] = []): { seq: string; length: number; prefix_hits: number } {
    this.checkSeqQuota(owner);
    const seq: Sequence = { id: `s${++this.nextSeq}`, owner, pages: [], length: 0 };
    let hits = 0;
    let i = 0;
    try {
      if (this.prefixCaching) {
        let prev = ROOT_HASH;
        while (i + this.blockSize <= tokens.length) {
          const hash = this.chainHash(prev, tokens, i);
          this.lookups++;
          const page = this.pool.byHash.get(hash);
          if (!page) break;
          this.hits++;
          hits++;
          this.pool.ref(page);
          seq.pages.push(page);
          seq.length += this.blockSize;
          prev = hash;
          i += this.blockSize;
        }
      }
      this.writeTokens(seq, tokens, i);
    } catch (err) {
      this.dropPages(seq);
      throw err;
    }
    this.seqs.set(seq.id, seq);
    let owned = this.byOwner.get(owner);
    if (!owned) this.byOwner.set(owner, (owned = new Set()));
    owned.add(seq.id);
    return { seq: seq.id, length: seq.length, prefix_hits: hits };
  }

  /** Append tokens; a shared last page is copied before it is written (copy-on-write). */
  append(owner: string, id: string, tokens: readonly number[]): { length: number; cow_copies: number } {
    const seq = this.owned(owner, id);
    const before = this.cow;
    this.writeTokens(seq, tokens, 0);
    return { length: seq.length, cow_copies: this.cow - before };
  }

  /** A new sequence of `owner` sharing every page of `id` (reference counts, no copy). */
  fork(owner: string, id: string): { seq: string; length: number } {
    const src = this.owned(owner, id);
    this.checkSeqQuota(owner);
    const seq: Sequence = { id: `s${++this.nextSeq}`, owner, pages: [...src.pages], length: src.length };
    for (const p of seq.pages) this.pool.ref(p);
    this.seqs.set(seq.id, seq);
    this.byOwner.get(owner)!.add(seq.id);
    return { seq: seq.id, length: seq.length };
  }

  /** Drop the sequence's references; pages no one references go to the LRU (cached) or the free list. */
  freeSeq(owner: string, id: string): void {
    const seq = this.owned(owner, id);
    this.dropPages(seq);
    this.seqs.delete(id);
    this.byOwner.get(owner)?.delete(id);
  }

  /** Free every sequence of an owner (its process ended). Returns how many were freed. */
  releaseOwner(owner: string): number {
    const owned = this.byOwner.get(owner);
    if (!owned) return 0;
    const n = owned.size;
    for (const id of [...owned]) this.freeSeq(owner, id);
    this.byOwner.delete(owner);
    return n;
  }

  /** Tokens of a sequence (positions [start, end)) and a checksum of their KV bytes. */
  read(owner: string, id: string, start = 0, end?: number): { tokens: number[]; checksum: string; length: number } {
    const seq = this.owned(owner, id);
    const stop = Math.min(end ?? seq.length, seq.length);
    const tokens: number[] = [];
    const h = createHash('sha1');
    for (let pos = Math.max(0, start); pos < stop; pos++) {
      const page = seq.pages[Math.floor(pos / this.blockSize)]!;
      const slot = pos % this.blockSize;
      tokens.push(page.tokens[slot]!);
      const off = slot * this.floatsPerToken * 4;
      h.update(page.buf.subarray(off, off + this.floatsPerToken * 4));
    }
    return { tokens, checksum: h.digest('hex'), length: seq.length };
  }

  /** The raw KV bytes of one token slot (tests compare them with the synthetic payload). */
  slotBytes(owner: string, id: string, pos: number): Buffer {
    const seq = this.owned(owner, id);
    if (pos < 0 || pos >= seq.length) throw new KvError('E_KV_RANGE', `position ${pos} outside sequence ${id} of length ${seq.length}`);
    const page = seq.pages[Math.floor(pos / this.blockSize)]!;
    const off = (pos % this.blockSize) * this.floatsPerToken * 4;
    return Buffer.from(page.buf.subarray(off, off + this.floatsPerToken * 4));
  }

  has(id: string): boolean {
    return this.seqs.has(id);
  }

  sequencesOf(owner: string): string[] {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  // ---- accounting -----------------------------------------------------------------------------

  /** Bytes charged to each owner: every page it references, split pro rata among its references. */
  charges(): Map<string, number> {
    const out = new Map<string, number>();
    for (const seq of this.seqs.values()) {
      let bytes = out.get(seq.owner) ?? 0;
      for (const p of seq.pages) bytes += this.pageBytes / p.refs;
      out.set(seq.owner, bytes);
    }
    return out;
  }

  /** Distinct pages each owner's sequences reference. */
  pagesByOwner(): Map<string, number> {
    const sets = new Map<string, Set<number>>();
    for (const seq of this.seqs.values()) {
      let s = sets.get(seq.owner);
      if (!s) sets.set(seq.owner, (s = new Set()));
      for (const p of seq.pages) s.add(p.id);
    }
    return new Map([...sets].map(([o, s]) => [o, s.size]));
  }

  stats(): KvStats {
    let logical = 0;
    const physical = new Set<number>();
    for (const seq of this.seqs.values()) {
      logical += seq.pages.length;
      for (const p of seq.pages) physical.add(p.id);
    }
    return {
      block_size: this.blockSize,
      page_bytes: this.pageBytes,
      sequences: this.seqs.size,
      logical_pages: logical,
      physical_pages: physical.size,
      cached_pages: this.pool.lru.size,
      allocated_pages: this.pool.allocated,
      capacity_pages: this.capacityPages,
      physical_bytes: physical.size * this.pageBytes,
      logical_bytes: logical * this.pageBytes,
      bytes_saved: (logical - physical.size) * this.pageBytes,
      cow_copies: this.cow,
      prefix_lookups: this.lookups,
      prefix_hits: this.hits,
      prefix_hit_rate: this.lookups === 0 ? 0 : Math.round((this.hits / this.lookups) * 10_000) / 10_000,
      evictions: this.pool.evicted,
    };
  }

  /**
   * Check every invariant (tests call this after each step): each page's refcount equals the number of
   * page-table entries naming it; unreferenced pages are cached (hashed, in the LRU) or free, never both;
   * the pool never exceeds its capacity. Throws on the first violation.
   */
  checkInvariants(): void {
    checkInvariants(this.seqs.values(), this.pool, this.blockSize, this.capacityPages);
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Empty sequences cost no page, but each costs memory: one owner may hold at most this many. */
  private checkSeqQuota(owner: string): void {
    const n = this.byOwner.get(owner)?.size ?? 0;
    if (n >= MAX_SEQS_PER_OWNER) throw new KvError('E_KV_FULL', `this process already holds ${n} sequences (at most ${MAX_SEQS_PER_OWNER})`);
  }

  private owned(owner: string, id: string): Sequence {
    const seq = this.seqs.get(id);
    // Another owner's sequence is reported as absent: ids do not leak across agents.
    if (!seq || seq.owner !== owner) throw new KvError('E_KV_NO_SEQ', `no sequence '${id}' owned by this agent process`);
    return seq;
  }

  private chainHash(prev: string, tokens: ArrayLike<number>, from: number): string {
    const h = createHash('sha1').update(prev).update('|');
    const block = new Int32Array(this.blockSize);
    for (let j = 0; j < this.blockSize; j++) block[j] = tokens[from + j]!;
    return h.update(Buffer.from(block.buffer)).digest('hex');
  }

  private writeTokens(seq: Sequence, tokens: readonly number[], from: number): void {
    for (let i = from; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t > 0x7fffffff) throw new KvError('E_KV_TOKEN', `token ${String(t)} at index ${i} is not a non-negative 32-bit integer`);
    }
    // All or nothing: make sure the pages this write needs can be had before touching anything.
    const n = tokens.length - from;
    if (n > 0) {
      const slot0 = seq.length % this.blockSize;
      const last = seq.pages[seq.pages.length - 1];
      const cow = slot0 > 0 && last !== undefined && last.refs > 1 ? 1 : 0;
      const fresh = Math.ceil((slot0 + n) / this.blockSize) - (slot0 > 0 ? 1 : 0);
      const available = this.pool.available();
      if (cow + fresh > available) throw new KvError('E_KV_FULL', `KV page pool full: need ${cow + fresh} pages, ${available} can be had (capacity ${this.capacityPages})`);
    }
    for (let i = from; i < tokens.length; i++) {
      const slot = seq.length % this.blockSize;
      let page: Page;
      if (slot === 0) {
        page = this.pool.alloc();
        seq.pages.push(page);
      } else {
        page = seq.pages[seq.pages.length - 1]!;
        if (page.refs > 1) {
          // Copy-on-write: this sequence gets a private copy of the shared, partly filled page.
          const copy = this.pool.alloc();
          page.buf.copy(copy.buf, 0, 0, slot * this.floatsPerToken * 4);
          copy.tokens.set(page.tokens.subarray(0, slot));
          copy.used = slot;
          this.pool.unref(page);
          seq.pages[seq.pages.length - 1] = copy;
          page = copy;
          this.cow++;
        }
      }
      const t = tokens[i]!;
      writeSynthetic(page.floats, slot * this.floatsPerToken, this.width, t, seq.length);
      page.tokens[slot] = t;
      page.used = slot + 1;
      seq.length++;
      if (page.used === this.blockSize && this.prefixCaching) this.register(seq, seq.pages.length - 1);
    }
  }

  /** Enter a just-filled page in the prefix cache (first writer wins). */
  private register(seq: Sequence, index: number): void {
    const prev = index === 0 ? ROOT_HASH : seq.pages[index - 1]!.hash;
    if (prev === undefined) return; // unreachable: every full page before a full page is hashed
    const page = seq.pages[index]!;
    page.hash = this.chainHash(prev, page.tokens, 0);
    if (!this.pool.byHash.has(page.hash)) {
      page.cached = true;
      this.pool.byHash.set(page.hash, page);
    }
  }

  private dropPages(seq: Sequence): void {
    for (const p of seq.pages) this.pool.unref(p);
    seq.pages = [];
  }
}
