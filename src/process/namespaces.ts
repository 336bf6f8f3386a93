/**
 * Pids across PID namespaces (isolation: pid): an agent in its own namespace announces its namespace pid
 * in `ready`; the kernel finds the host pid it stands for among the descendants of the process it
 * spawned, by the last field of `NSpid:` in /proc/<pid>/status (the pid as the innermost namespace sees it).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Child pids of `pid` (every thread's children), [] when it is gone. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process ended meanwhile
  }
  return out;
}

/** The namespace pid of `pid` (last field of NSpid), or undefined. */
function innermostPid(pid: number): number | undefined {
  try {
    const m = /^NSpid:\s*([\d\s]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const ids = m?.[1]!.trim().split(/\s+/).map(Number);
    return ids && ids.length > 1 ? ids[ids.length - 1] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The host pid of the descendant of `root` whose pid in its own (nested) namespace is `nsPid`, or
 * undefined. Looks at most `maxDepth` generations down (unshare -> init shell -> agent: 2).
 */
export function hostPidOf(root: number, nsPid: number, maxDepth = 3): number | undefined {
  let level = [root];
  for (let depth = 0; depth < maxDepth && level.length > 0; depth++) {
    const next: number[] = [];
    for (const p of level) {
      for (const c of childrenOf(p)) {
        if (innermostPid(c) === nsPid) return c;
        next.push(c);
      }
    }
    level = next;
  }
  return undefined;
}
