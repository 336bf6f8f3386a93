/**
 * Memory of a whole process tree, every descendant counted whichever thread started it. Read
 * synchronously, one open-read-close per file: the number of file handles held afterwards is zero, however
 * many short-lived descendants came and went (pidusage keeps one handle per pid it ever read). Errors are
 * counted in the result, never thrown, so a sampler timer can call this without a try.
 */
import { readFileSync } from 'node:fs';
import { errnoOf, isSameLive } from './cgfs.js';
import { walkTree, type WalkOptions } from './proc-walk.js';

/** A tree's memory. */
export interface TreeMemory {
  /** Resident bytes: statm RSS summed over the tree, or the cgroup's charge (see `source`). */
  bytes: number;
  /** Processes counted (statm), or in the cgroup. */
  pids: number;
  /**
   * `statm`: sum of resident pages (shared pages counted once per process: an over-estimate);
   * `cgroup-v2`/`cgroup-v1`: memory.current / memory.usage_in_bytes — includes page cache and kernel
   * memory the tree caused, which RSS does not show (see docs/containment.md).
   */
  source: 'statm' | 'cgroup-v2' | 'cgroup-v1';
  /** Reads that failed for another reason than the process being gone (counted, not thrown). */
  errors: number;
}

let pageSize: number | undefined;

/** The kernel page size, from the AT_PAGESZ entry (type 6) of /proc/self/auxv; 4096 if unreadable. */
export function kernelPageSize(): number {
  if (pageSize !== undefined) return pageSize;
  pageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let off = 0; off + 16 <= auxv.length; off += 16) {
      const type = auxv.readBigUInt64LE(off);
      if (type === 0n) break;
      if (type === 6n) {
        pageSize = Number(auxv.readBigUInt64LE(off + 8));
        break;
      }
    }
  } catch {
    // keep 4096
  }
  return pageSize;
}

/** Resident bytes of one process from /proc/<pid>/statm (field 2, pages); null when gone; 'error' on any other failure (EMFILE...). */
export function rssBytes(pid: number): number | null | 'error' {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/statm`, 'utf8');
  } catch (err) {
    const code = errnoOf(err);
    return code === 'ENOENT' || code === 'ESRCH' ? null : 'error';
  }
  const pages = Number(text.split(' ')[1]);
  return Number.isFinite(pages) ? pages * kernelPageSize() : 'error';
}

/**
 * Resident bytes of `pid` and every descendant the walk finds (with `tag`, tagged processes too).
 * A process gone between walk and read counts 0; any other failure adds to `errors`. Never throws.
 */
export function treeRssBytes(pid: number, opts: WalkOptions = {}): TreeMemory {
  const out: TreeMemory = { bytes: 0, pids: 0, source: 'statm', errors: 0 };
  let tree: number[];
  try {
    const rootOk = opts.rootStart === undefined || (opts.rootStart !== null && isSameLive(pid, opts.rootStart));
    tree = [...(rootOk ? [pid] : []), ...walkTree(pid, opts).map((f) => f.pid)];
  } catch {
    // /proc itself unreadable (EMFILE, ENFILE, no procfs): report it, do not throw out of a timer.
    out.errors++;
    tree = [pid];
  }
  for (const p of tree) {
    const b = rssBytes(p);
    if (b === null) continue;
    if (b === 'error') {
      out.errors++;
      continue;
    }
    out.bytes += b;
    out.pids++;
  }
  return out;
}
