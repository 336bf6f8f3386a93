/**
 * Pid identity: a pid number is reused once its process is reaped (pid_max is often 32768, and threads
 * consume pids too), so AgentOS never signals a bare number. A process is (pid, start time), the start
 * time being /proc/<pid>/stat field 22 (clock ticks since boot), read once while the process is surely
 * ours (right after spawn: an unreaped child keeps its pid). Node builtins only: the reaper uses this too.
 */
import { readFileSync } from 'node:fs';

/** /proc/<pid>/stat fields after the command (index 0 = state, field 3); null when there is no such pid. */
function stat(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Start time of `pid` (field 22) as a decimal string; null when the pid does not exist. */
export function pidStart(pid: number): string | null {
  return pid > 0 ? (stat(pid)?.[19] ?? null) : null;
}

/**
 * Signal `pid` only if it is still the process that started at `start` (zombies included: harmless).
 * Returns true when sent; false when the pid is gone, belongs to another process now, or refused.
 */
export function signalIfSame(pid: number, start: string, sig: NodeJS.Signals): boolean {
  if (pid <= 1 || pid === process.pid || pidStart(pid) !== start) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** What signalGroupIfSame found. */
export type GroupVerdict = 'signalled' | 'gone' | 'reused';

/**
 * Signal the process group `pgid` whose leader is (pgid, `start`), only while it can still be that group.
 * - the leader lives (or is a zombie) with that start time: the group is ours -> kill(-pgid);
 * - another process holds the number: Linux never hands out a pid still in use as a process group id,
 *   so our group is empty and this number belongs to someone else -> nothing is sent ('reused');
 * - no process holds the number: the leader was reaped; members it left keep the number reserved, so
 *   kill(-pgid) reaches only them (an empty group: ESRCH). The one window left is a new process taking
 *   the number and making itself a group leader between this read and the kill (microseconds, and pid
 *   allocation is cyclic); only a cgroup closes it.
 */
export function signalGroupIfSame(pgid: number, start: string, sig: NodeJS.Signals): GroupVerdict {
  if (pgid <= 1) return 'gone';
  const now = pidStart(pgid);
  if (now !== null && now !== start) return 'reused';
  try {
    process.kill(-pgid, sig);
    return 'signalled';
  } catch {
    return 'gone';
  }
}
