/** Shapes of the KV page store: options, pages, sequences, stats, and its error. */
import { AgentOSError, type ErrorCode } from '../errors.js';

/** A refused KV-store operation (E_KV_CONFIG, E_KV_FULL, E_KV_NO_SEQ, E_KV_RANGE, E_KV_TOKEN). */
export class KvError extends AgentOSError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'KvError';
  }
}

export interface KvStoreOptions {
  /** Tokens per page. @default 16 */
  blockSize?: number;
  /** Floats per K (and per V) vector of one token. @default 64 */
  width?: number;
  /** Most pages the pool may hold (referenced + cached). @default 65536 */
  capacityPages?: number;
  /** Share identical full blocks between sequences. @default true */
  prefixCaching?: boolean;
}

export interface Page {
  readonly id: number;
  readonly buf: Buffer;
  readonly floats: Float32Array;
  readonly tokens: Int32Array;
  used: number;
  refs: number;
  /** Chained hash of this full block (and every block before it); set only once the page is full. */
  hash: string | undefined;
  /** This page is the prefix-cache entry for its hash (kept in the LRU when unreferenced). */
  cached: boolean;
}

export interface Sequence {
  readonly id: string;
  readonly owner: string;
  pages: Page[];
  length: number;
}

export interface KvStats {
  block_size: number;
  page_bytes: number;
  sequences: number;
  /** Page-table entries over all sequences: the pages they would need without sharing. */
  logical_pages: number;
  /** Distinct pages referenced by at least one sequence. */
  physical_pages: number;
  /** Unreferenced pages kept for prefix hits (evictable). */
  cached_pages: number;
  /** Buffers allocated by the pool (physical + cached + free list). */
  allocated_pages: number;
  capacity_pages: number;
  physical_bytes: number;
  logical_bytes: number;
  bytes_saved: number;
  cow_copies: number;
  prefix_lookups: number;
  prefix_hits: number;
  prefix_hit_rate: number;
  evictions: number;
}
