/**
 * The reaper: one small idle process per kernel that remembers every agent process group. When its IPC
 * channel closes (the kernel exited, or was SIGKILLed) it SIGKILLs every group still tracked. Agent
 * processes also exit on disconnect, but a busy-looping one never sees that event; the reaper does.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '../src/protocol/messages.js';

interface ReaperMessage {
  type: 'track' | 'untrack' | 'track-cgroup';
  pgid?: number;
  /** track-cgroup: a run cgroup directory (containment) to end when the kernel dies. */
  dir?: string;
}

/** End every process in a cgroup and its children: cgroup.kill (v2), else SIGKILL each pid of cgroup.procs. */
function killCgroup(dir: string): void {
  try {
    if (existsSync(join(dir, 'cgroup.kill'))) writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    // fall through to SIGKILL each
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
    for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
      const n = Number(pid);
      if (Number.isInteger(n) && n > 1) {
        try {
          process.kill(n, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  } catch {
    return; // removed already
  }
  for (const e of entries) {
    try {
      if (statSync(join(dir, e)).isDirectory()) killCgroup(join(dir, e));
    } catch {
      // gone
    }
  }
}
const cgroups = new Set<string>();

if (typeof process.send !== 'function') {
  process.stderr.write('agentos reaper: start me through the AgentOS kernel (no IPC channel).\n');
  process.exit(64);
}

process.title = `agentos-reaper run=${process.env[ENV.run] ?? '?'}`;
const groups = new Set<number>();

// The kernel decides when agents stop; a Ctrl-C in the terminal must not take the reaper first.
process.on('SIGINT', () => {});

process.on('message', (m: ReaperMessage) => {
  if (m?.type === 'track-cgroup' && typeof m.dir === 'string' && m.dir.startsWith('/sys/fs/cgroup/')) cgroups.add(m.dir);
  if (!m || typeof m.pgid !== 'number' || !Number.isInteger(m.pgid) || m.pgid <= 1) return;
  if (m.type === 'track') groups.add(m.pgid);
  else if (m.type === 'untrack') groups.delete(m.pgid);
});

process.on('disconnect', () => {
  // The kernel is gone: its cgroups' processes die here too (the next kernel's reapStale removes the directories).
  for (const dir of cgroups) killCgroup(dir);
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
