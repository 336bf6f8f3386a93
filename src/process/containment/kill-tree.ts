/**
 * killTree(): end a process and everything the /proc walk finds below it, without a cgroup. Each round
 * stops (SIGSTOP) what it finds before killing, so a forking process cannot add children between the
 * walk and the kill, and collects the whole stopped tree before the first SIGKILL (once a parent dies its
 * children are re-parented to init and only the env tag can find them). Rounds repeat until nothing is
 * found alive or the deadline passes. Pid reuse: the root is identified by (pid, start time), so a
 * recycled root pid is never signalled; a descendant pid could in theory be recycled between walk and
 * kill (microseconds) — only a cgroup closes that window.
 */
import { isLive, isSameLive, signal, sleep, startTime, statFields } from './cgfs.js';
import { walkTree, type Found, type WalkOptions } from './proc-walk.js';

/** Options of killTree. */
export interface KillTreeOptions extends WalkOptions {
  /** Give up after this long (ms, default 2000); what is still alive is returned in `remaining`. */
  deadlineMs?: number;
}

/** What killTree did. */
export interface KillTreeResult {
  /** Every process it signalled (root included), with how it was found. */
  found: Found[];
  /** Pids still alive at the deadline (empty on success). */
  remaining: number[];
  rounds: number;
}

/** Stop every live process of the tree, re-walking until a walk finds nothing new (bounded). */
function stopTree(root: number, rootAlive: boolean, opts: WalkOptions, seen: Map<number, Found['found_by']>): number[] {
  const stopped = new Set<number>();
  if (rootAlive && signal(root, 'SIGSTOP')) stopped.add(root);
  for (let i = 0; i < 20; i++) {
    let added = 0;
    for (const f of walkTree(root, opts)) {
      if (stopped.has(f.pid) || !isLive(f.pid)) continue;
      if (!seen.has(f.pid)) seen.set(f.pid, f.found_by);
      if (signal(f.pid, 'SIGSTOP')) {
        stopped.add(f.pid);
        added++;
      }
    }
    if (added === 0) break;
  }
  return [...stopped];
}

/**
 * SIGKILL `pid`, its process group (only when `pid` leads it: never the caller's group) and every
 * descendant the walk finds (with `tag`, tagged processes too); repeat until none remain or the deadline.
 * Never throws: a pid that vanished or is not ours is skipped.
 */
export async function killTree(pid: number, opts: KillTreeOptions = {}): Promise<KillTreeResult> {
  const deadline = Date.now() + (opts.deadlineMs ?? 2000);
  // The caller may know the root's start time from earlier (attach): then a recycled pid is never the root.
  const start = opts.rootStart !== undefined ? opts.rootStart : startTime(pid);
  // Parentage is followed only while `pid` is still the process we were asked about (pid reuse).
  opts = { ...opts, rootStart: start };
  const seen = new Map<number, Found['found_by']>();
  let rounds = 0;
  let remaining: number[] = [];
  let rootSeen = false;
  for (;;) {
    rounds++;
    const rootAlive = start !== null && isSameLive(pid, start);
    rootSeen ||= rootAlive;
    const stopped = stopTree(pid, rootAlive, opts, seen);
    if (rootAlive && Number(statFields(pid)?.[2]) === pid && pid !== process.pid) signal(-pid, 'SIGKILL');
    for (const p of stopped) signal(p, 'SIGKILL');
    // Let the kernel deliver and exit them before looking again (a SIGKILLed task exits within microseconds).
    await sleep(stopped.length > 0 ? 5 : 0);
    remaining = [...(start !== null && isSameLive(pid, start) ? [pid] : []), ...walkTree(pid, opts).map((f) => f.pid).filter(isLive)];
    if (remaining.length === 0 || Date.now() > deadline) break;
  }
  const found: Found[] = [...(rootSeen ? [{ pid, found_by: 'parent' as const }] : []), ...[...seen].map(([p, by]) => ({ pid: p, found_by: by }))];
  return { found, remaining, rounds };
}
