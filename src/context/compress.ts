/**
 * Fit a task's context into a token budget. Deterministic: the same entries and budget always give the
 * same result. In order, and only while still over budget:
 *   1. drop superseded entries (older versions of a blackboard key),
 *   2. deduplicate (identical text: keep the newest),
 *   3. summarise old or long entries (oldest first, then longest): keep the head that fits a summary
 *      allowance, cut on a BPE token boundary, and say how much was left out,
 *   4. drop the oldest remaining non-critical entries.
 * Critical entries (dependency outputs) and the newest `keepNewest` entries are never summarised; critical
 * ones are never dropped either. If the critical entries alone exceed the budget, the result says so
 * (`over_budget`) rather than cutting what the task depends on.
 */
import type { Tokenizer } from './tokenizer.js';

export interface ContextEntry {
  id: string;
  source: 'dependency' | 'memory';
  key: string;
  text: string;
  /** Ordering: higher is newer. */
  order: number;
  critical: boolean;
  superseded: boolean;
  writer?: unknown;
}

export interface PackedEntry {
  id: string;
  source: ContextEntry['source'];
  key: string;
  text: string;
  tokens: number;
  verbatim: boolean;
  writer?: unknown;
}

export interface CompressionResult {
  entries: PackedEntry[];
  budget: number;
  tokens_before: number;
  tokens_after: number;
  chars_before: number;
  chars_after: number;
  compressed: boolean;
  over_budget: boolean;
  superseded_dropped: number;
  deduplicated: number;
  summarised: number;
  dropped: number;
}

export interface CompressOptions {
  /** Newest non-critical entries kept verbatim. @default 2 */
  keepNewest?: number;
  /** Tokens a summary keeps of an entry's head. @default 32 */
  summaryTokens?: number;
}

interface Work extends ContextEntry {
  tokens: number;
  verbatim: boolean;
}

export function compressContext(input: readonly ContextEntry[], budget: number, tok: Tokenizer, opts: CompressOptions = {}): CompressionResult {
  const keepNewest = opts.keepNewest ?? 2;
  const summaryTokens = opts.summaryTokens ?? 32;
  let work: Work[] = [...input].sort((a, b) => a.order - b.order).map((e) => ({ ...e, tokens: tok.count(e.text), verbatim: true }));
  const total = (): number => work.reduce((s, e) => s + e.tokens, 0);
  const tokensBefore = total();
  const charsBefore = work.reduce((s, e) => s + e.text.length, 0);
  const r = { superseded_dropped: 0, deduplicated: 0, summarised: 0, dropped: 0 };

  if (total() > budget) {
    const n = work.length;
    work = work.filter((e) => e.critical || !e.superseded);
    r.superseded_dropped = n - work.length;
  }
  if (total() > budget) {
    const seen = new Set<string>();
    const keep: Work[] = [];
    for (let i = work.length - 1; i >= 0; i--) {
      const e = work[i]!;
      if (!e.critical && seen.has(e.text)) {
        r.deduplicated++;
        continue;
      }
      seen.add(e.text);
      keep.push(e);
    }
    work = keep.reverse();
  }
  // The newest non-critical entries stay verbatim.
  const protectedIds = new Set(work.filter((e) => !e.critical).slice(-keepNewest).map((e) => e.id));
  if (total() > budget) {
    const candidates = work
      .filter((e) => !e.critical && !protectedIds.has(e.id) && e.tokens > summaryTokens)
      // oldest first; among the same age, the longest first
      .sort((a, b) => a.order - b.order || b.tokens - a.tokens);
    for (const e of candidates) {
      if (total() <= budget) break;
      const head = tok.head(e.text, summaryTokens);
      const text = `${head} … [summarised: ${e.tokens} tokens, ${e.text.length} chars]`;
      const tokens = tok.count(text);
      if (tokens >= e.tokens) continue;
      e.text = text;
      e.tokens = tokens;
      e.verbatim = false;
      r.summarised++;
    }
  }
  if (total() > budget) {
    // Oldest non-critical first; the protected newest ones last.
    const order = work.filter((e) => !e.critical).sort((a, b) => Number(protectedIds.has(a.id)) - Number(protectedIds.has(b.id)) || a.order - b.order);
    const drop = new Set<string>();
    let t = total();
    for (const e of order) {
      if (t <= budget) break;
      drop.add(e.id);
      t -= e.tokens;
      r.dropped++;
    }
    work = work.filter((e) => !drop.has(e.id));
  }
  const after = total();
  return {
    entries: work.map((e) => ({ id: e.id, source: e.source, key: e.key, text: e.text, tokens: e.tokens, verbatim: e.verbatim, ...(e.writer === undefined ? {} : { writer: e.writer }) })),
    budget,
    tokens_before: tokensBefore,
    tokens_after: after,
    chars_before: charsBefore,
    chars_after: work.reduce((s, e) => s + e.text.length, 0),
    compressed: r.superseded_dropped + r.deduplicated + r.summarised + r.dropped > 0,
    over_budget: after > budget,
    ...r,
  };
}
