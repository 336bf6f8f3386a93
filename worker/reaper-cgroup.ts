/**
 * The reaper's cgroup kill (node builtins only): `cgroup.kill` where the v2 hierarchy has it, else
 * SIGKILL of every pid in `cgroup.procs`, repeated while forks race the kill; a frozen cgroup is thawed
 * so its processes can die. Paths are accepted only below /sys/fs/cgroup (never a hierarchy's root file).
 */
import { existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';

const ROOT = '/sys/fs/cgroup/';

/** A cgroup directory the reaper may act on: absolute, normalised, strictly below /sys/fs/cgroup/<hierarchy>/. */
export function validCgroupPath(p: unknown): p is string {
  if (typeof p !== 'string' || !isAbsolute(p) || normalize(p) !== p || !p.startsWith(ROOT)) return false;
  return p.slice(ROOT.length).split('/').filter(Boolean).length >= 2;
}

function write(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function pids(dir: string): number[] {
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'latin1').split('\n').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 1);
  } catch {
    return [];
  }
}

/** Synchronous pause (the reaper has nothing else to do while it cleans up). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Kill every process in the cgroup; bounded (~20 rounds). Never throws. */
export function killCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  const viaKill = write(`${dir}/cgroup.kill`, '1');
  for (let round = 0; round < 20; round++) {
    const left = pids(dir);
    if (left.length === 0) break;
    if (!viaKill || round > 0) {
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    // Frozen processes cannot die until thawed (v1 freezer, v2 cgroup.freeze).
    if (existsSync(`${dir}/freezer.state`)) write(`${dir}/freezer.state`, 'THAWED');
    if (existsSync(`${dir}/cgroup.freeze`)) write(`${dir}/cgroup.freeze`, '0');
    pause(10);
  }
}

/** Remove the (emptied) cgroup directory; EBUSY while exiting processes leave it is retried for ~500 ms. */
export function removeCgroup(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') return;
      pause(10);
    }
  }
}
