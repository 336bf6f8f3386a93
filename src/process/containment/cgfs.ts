/**
 * Small synchronous helpers over cgroupfs and /proc. Synchronous on purpose: each call opens, reads and
 * closes one small kernel file, so no file handle outlives the call (no fd pile-up under process churn),
 * and a cgroup write happens before the caller's next line runs (attach right after spawn).
 */
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { AgentOSError } from '../../errors.js';

/** errno code of a failed fs call, or '' when it is not a system error. */
export function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

/** The file's text, or null when it cannot be read (gone, no permission). */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Write a control file. Throws AgentOSError `E_CONTAINMENT` naming the file, the value and the errno
 * (EACCES/EPERM: not ours; EBUSY/EINVAL: refused by the kernel; ESRCH: the pid is gone).
 */
export function writeControl(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (err) {
    throw new AgentOSError('E_CONTAINMENT', `cannot write '${value.trim()}' to ${path}: ${errnoOf(err) || String(err)}`, { cause: err });
  }
}

/** Pids listed in a cgroup.procs (or v1 tasks) file; [] when unreadable. */
export function readPids(file: string): number[] {
  const text = readText(file);
  if (!text) return [];
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const n = Number(line);
    if (line !== '' && Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

/** A flat-keyed file (`key value` per line: memory.events, memory.oom_control, pids.events) as numbers. */
export function readKeyed(path: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readText(path) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A single-number control file (memory.current, memory.usage_in_bytes, pids.current); null if unreadable. */
export function readNumber(path: string): number | null {
  const t = readText(path)?.trim();
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : null;
}

/** The fields of /proc/<pid>/stat after the command (index 0 is the state letter); null if gone. */
export function statFields(pid: number): string[] | null {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return null;
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** Process start time (clock ticks since boot, /proc/<pid>/stat field 22) as a string; null if gone. */
export function startTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** The process exists and is not a zombie (a zombie runs nothing and holds no memory). */
export function isLive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z' && f[0] !== 'X';
}

/** The process (pid, starttime) is still the same live process: guards against pid reuse. */
export function isSameLive(pid: number, start: string): boolean {
  return isLive(pid) && startTime(pid) === start;
}

/** First 200 characters of a command line, NULs as spaces; '' when gone. */
export function cmdline(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').replace(/\0/g, ' ').trim().slice(0, 200);
}

/** SIGKILL (or another signal) a pid; false when it is gone or not ours. Never throws. */
export function signal(pid: number, sig: NodeJS.Signals = 'SIGKILL'): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * rmdir a cgroup, retrying EBUSY (tasks still exiting, v1 memory charges draining) every 10 ms until
 * `deadlineMs`. Resolves to null when removed or already gone, else the last errno.
 */
export async function rmdirRetry(dir: string, deadlineMs = 2000): Promise<string | null> {
  const t0 = Date.now();
  for (;;) {
    try {
      rmdirSync(dir);
      return null;
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT') return null;
      if (code !== 'EBUSY' || Date.now() - t0 > deadlineMs) return code || String(err);
    }
    await sleep(10);
  }
}
