/**
 * The physical pages of the KV store: fixed-size Buffers handed out from a free list, allocated up to a
 * capacity, and - once full and hashed - kept in the prefix cache; an unreferenced cached page waits in
 * an LRU and is evicted (reused) when the pool is at capacity.
 */
import { KvError, type Page } from './types.js';

export class PagePool {
  readonly free: Page[] = [];
  /** Full pages by chained hash (referenced or not). */
  readonly byHash = new Map<string, Page>();
  /** Unreferenced cached pages, least recently used first (Map keeps insertion order). */
  readonly lru = new Map<number, Page>();
  private nextPage = 0;
  private allocatedN = 0;
  private evictedN = 0;

  constructor(
    private readonly blockSize: number,
    private readonly pageBytes: number,
    private readonly capacityPages: number,
  ) {}

  /** Buffers allocated so far (referenced + cached + free). */
  get allocated(): number {
    return this.allocatedN;
  }

  /** Cached pages reused for new data. */
  get evicted(): number {
    return this.evictedN;
  }

  /** Pages that can be had now: free, not yet allocated, or evictable. */
  available(): number {
    return this.free.length + (this.capacityPages - this.allocatedN) + this.lru.size;
  }

  /** A page with refs 1. Throws KvError E_KV_FULL when every page is referenced. */
  alloc(): Page {
    let page = this.free.pop();
    if (!page) {
      if (this.allocatedN < this.capacityPages) {
        // Each page is its own ArrayBuffer: real memory, aligned for the Float32Array view.
        const buf = Buffer.allocUnsafeSlow(this.pageBytes);
        page = { id: ++this.nextPage, buf, floats: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), tokens: new Int32Array(this.blockSize), used: 0, refs: 0, hash: undefined, cached: false };
        this.allocatedN++;
      } else {
        const victim = this.lru.values().next().value;
        if (!victim) throw new KvError('E_KV_FULL', `KV page pool full: all ${this.capacityPages} pages are referenced`);
        this.lru.delete(victim.id);
        this.byHash.delete(victim.hash!);
        this.evictedN++;
        page = victim;
      }
    }
    page.used = 0;
    page.refs = 1;
    page.hash = undefined;
    page.cached = false;
    return page;
  }

  ref(page: Page): void {
    if (page.refs === 0) this.lru.delete(page.id);
    page.refs++;
  }

  unref(page: Page): void {
    page.refs--;
    if (page.refs > 0) return;
    if (page.cached) this.lru.set(page.id, page);
    else {
      page.hash = undefined;
      this.free.push(page);
    }
  }
}
