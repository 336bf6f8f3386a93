/**
 * Facts about processes read straight from Linux /proc: RSS, CPU time (own and reaped children's),
 * which processes of a run are still alive, and the RSS of a bare `node` child for comparison.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ: fixed at 100 by the Linux ABI for /proc/<pid>/stat times

function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "(comm)", which may itself hold spaces; [0] is the state (field 3)
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of this process and of every child it has reaped (utime, stime, cutime, cstime). The kernel
 * reaps each agent process it started, crashed ones included, so the difference of two readings is the
 * run's whole CPU cost. Falls back to this process alone where /proc is missing.
 */
export function cpuSeconds(): { self: number; children: number } {
  const f = statFields('self');
  if (!f) {
    const u = process.cpuUsage();
    return { self: (u.user + u.system) / 1e6, children: 0 };
  }
  const n = (i: number): number => Number(f[i - 3]);
  return { self: (n(14) + n(15)) / CLK_TCK, children: (n(16) + n(17)) / CLK_TCK };
}

export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (a zombie runs nothing and holds no memory). */
export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const f = statFields(pid);
  return f !== undefined && f[0] !== 'Z';
}

/** Pids (other than this one) whose command line names the run, e.g. `agentos-agent x#1 run=ab12cd`. */
export function pidsOfRun(runId: string): number[] {
  const needle = `run=${runId}`;
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/**
 * RSS of a bare `node` child with an IPC channel and nothing loaded, the yardstick for an agent process:
 * the highest of `samples` readings, 50 ms apart, once it has said it is up.
 */
export async function bareNodeChildRssMb(samples = 10): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'process.on("message", () => {}); process.send("up");'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bare node child did not start within 10 s')), 10_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => reject(new Error('bare node child exited early')));
    });
    let peak = 0;
    for (let i = 0; i < samples; i++) {
      peak = Math.max(peak, rssMb(child.pid!) ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    return Math.round(peak * 10) / 10;
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  }
}
