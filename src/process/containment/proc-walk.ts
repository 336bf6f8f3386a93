/**
 * The /proc walk: every descendant of a process, for machines without a usable cgroup (and to catch
 * what left a cgroup). Two ways to find one:
 * - parentage: /proc/<pid>/task/<tid>/children of EVERY thread (a child spawned from a worker_thread is a
 *   child of that thread, not of the main one); without CONFIG_PROC_CHILDREN, one scan of /proc/<pid>/stat;
 * - the env tag: the kernel starts each agent with AGENTOS_RUN_TAG=<runId>/<agent>#<n>.<k> (k: one per process); every process that
 *   inherits it is found in /proc/<pid>/environ even after a double fork re-parents it to init.
 * Best effort: a process may exec with a cleared environment, and /proc/<pid>/environ shows only the
 * environment it was exec'd with; its parentage is then lost once its parent exits. Only a cgroup holds.
 * Every read is a synchronous open-read-close: no handle survives the call.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isSameLive, readText, statFields } from './cgfs.js';
import { RUN_TAG_ENV } from './types.js';

/** A process found by the walk, and how. */
export interface Found {
  pid: number;
  found_by: 'parent' | 'tag';
}

/** What to look for besides parentage. */
export interface WalkOptions {
  /** Also find processes whose environment holds AGENTOS_RUN_TAG=<tag> (and their descendants). */
  tag?: string;
  /** Match the tag as a prefix (`<runId>/` finds every process of a run). Default false (exact). */
  tagPrefix?: boolean;
  /**
   * The root's start time (cgfs.startTime) when it was identified: if `pid` is no longer that process (it
   * exited and the pid was reused), parentage from it is not followed — only tags. null: never follow.
   */
  rootStart?: string | null;
  /** Stop after this many processes (default 100,000: a guard, not a policy). */
  limit?: number;
}

/** The env marker for one agent process: pass it in the child's environment. */
export function runTag(runId: string, agent: string, instance: number): string {
  return `${runId}/${agent}#${instance}`;
}

/** Every numeric entry of /proc (live pids, zombies included). */
export function allPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const n = Number(name);
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

let hasChildrenFile: boolean | undefined;
function childrenFileWorks(): boolean {
  hasChildrenFile ??= readText(`/proc/${process.pid}/task/${process.pid}/children`) !== null;
  return hasChildrenFile;
}

/** Children of every thread of `pid` (via task/<tid>/children). */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    const text = readText(`/proc/${pid}/task/${tid}/children`);
    if (!text) continue;
    for (const c of text.split(' ')) {
      const n = Number(c);
      if (n > 0) out.push(n);
    }
  }
  return out;
}

/** ppid -> children, from one scan of every /proc/<pid>/stat (for kernels without the children file). */
function childMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const p of allPids()) {
    const ppid = Number(statFields(p)?.[1]);
    if (!(ppid > 0)) continue;
    const list = map.get(ppid);
    if (list) list.push(p);
    else map.set(ppid, [p]);
  }
  return map;
}

/** Pids whose environment holds the tag (exact value, or prefix). Other users' processes are unreadable and skipped. */
export function taggedPids(tag: string, prefix = false): number[] {
  const needle = Buffer.from(`\0${RUN_TAG_ENV}=${tag}${prefix ? '' : '\0'}`);
  const out: number[] = [];
  for (const p of allPids()) {
    if (p === process.pid) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${p}/environ`);
    } catch {
      continue;
    }
    // The first variable has no NUL before it and the last may lack the trailing one: pad both ends.
    if (Buffer.concat([Buffer.from([0]), env, Buffer.from([0])]).indexOf(needle) >= 0) out.push(p);
  }
  return out;
}

/**
 * Every descendant of `pid` (not `pid` itself), with how each was found; with a tag, also every tagged
 * process and its descendants. Processes that vanish mid-walk are skipped, never an error.
 */
export function walkTree(pid: number, opts: WalkOptions = {}): Found[] {
  const limit = opts.limit ?? 100_000;
  const found = new Map<number, Found['found_by']>();
  const rootOk = opts.rootStart === undefined || (opts.rootStart !== null && isSameLive(pid, opts.rootStart));
  const stack: number[] = rootOk ? [pid] : [];
  if (opts.tag !== undefined) {
    for (const t of taggedPids(opts.tag, opts.tagPrefix)) {
      if (t !== pid && !found.has(t)) {
        found.set(t, 'tag');
        stack.push(t);
      }
    }
  }
  const map = childrenFileWorks() ? null : childMap();
  while (stack.length > 0 && found.size < limit) {
    const p = stack.pop()!;
    for (const c of map ? (map.get(p) ?? []) : childrenOf(p)) {
      if (c === pid || c === process.pid || found.has(c)) continue;
      found.set(c, 'parent');
      stack.push(c);
    }
  }
  return [...found].map(([p, by]) => ({ pid: p, found_by: by }));
}

/** Pids of every descendant of `pid` (see walkTree). */
export function descendants(pid: number, opts: WalkOptions = {}): number[] {
  return walkTree(pid, opts).map((f) => f.pid);
}
