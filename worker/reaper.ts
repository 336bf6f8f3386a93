/**
 * The reaper: one small process per kernel (node builtins only) that
 * - remembers every agent process group and every agent cgroup the kernel tells it about, and kills
 *   them all when its IPC channel closes (the kernel exited or was SIGKILLed) or on `kill-all`; agents
 *   also exit on disconnect, but a busy-looping one never sees that event;
 * - watches its kernel: a kernel left stopped (SIGSTOP from an agent) is continued after
 *   `AGENTOS_REAPER_STOP_MS` and told for how long (`kernel-stopped`), so its timeouts fire and the run ends;
 * - when the kernel is lost (channel closed without `done`): writes a minimal `report.json` marked
 *   `kernel_lost` from what events.jsonl holds, and removes the kernel's stale control socket.
 * Messages (kernel -> reaper): track/untrack {pgid}, track-cgroup/untrack-cgroup {path}, socket {path},
 * kill-all, done. (reaper -> kernel): ready (its handlers are attached: messages sent before may have been
 * emitted to nobody while this ES module loaded, so the kernel sends what it tracks again), kernel-stopped {for_ms}.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { ENV } from '../src/protocol/messages.js';
import { killCgroup, removeCgroup, validCgroupPath } from './reaper-cgroup.js';
import { writeLostReport } from './reaper-report.js';

type ReaperMessage =
  | { type: 'track' | 'untrack'; pgid: number }
  | { type: 'track-cgroup' | 'untrack-cgroup'; path: string }
  | { type: 'socket'; path: string }
  | { type: 'kill-all' }
  | { type: 'done' };

if (typeof process.send !== 'function') {
  process.stderr.write('agentos reaper: start me through the AgentOS kernel (no IPC channel).\n');
  process.exit(64);
}

const runId = process.env[ENV.run] ?? '?';
process.title = `agentos-reaper run=${runId}`;
const runDir = process.env.AGENTOS_REAPER_RUN_DIR;
const kernelPid = process.ppid;
/** How often the kernel's state is read (ms). */
const WATCH_MS = positive(process.env.AGENTOS_REAPER_WATCH_MS, 200);
/** How long a stopped kernel stays stopped before it is continued (ms). */
const STOP_MS = positive(process.env.AGENTOS_REAPER_STOP_MS, 1000);

const groups = new Set<number>();
const cgroups = new Set<string>();
let socketPath: string | undefined;
let orderly = false;
inherit(process.env.AGENTOS_REAPER_TRACKED);

/** What a previous reaper of this kernel tracked (set by the kernel when it starts another). */
function inherit(json: string | undefined): void {
  if (!json) return;
  try {
    const t = JSON.parse(json) as { groups?: unknown; cgroups?: unknown };
    if (Array.isArray(t.groups)) for (const g of t.groups) if (Number.isInteger(g) && (g as number) > 1) groups.add(g as number);
    if (Array.isArray(t.cgroups)) for (const c of t.cgroups) if (validCgroupPath(c)) cgroups.add(c);
  } catch {
    // unreadable: the kernel sends everything again once this reaper is ready
  }
}

function positive(v: string | undefined, dflt: number): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : dflt;
}

// The kernel decides when agents stop; a Ctrl-C or a closed terminal must not take the reaper first.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

process.on('message', (m: ReaperMessage) => {
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'track':
    case 'untrack':
      if (typeof m.pgid !== 'number' || !Number.isInteger(m.pgid) || m.pgid <= 1) return;
      if (m.type === 'track') groups.add(m.pgid);
      else groups.delete(m.pgid);
      return;
    case 'track-cgroup':
    case 'untrack-cgroup':
      if (!validCgroupPath(m.path)) return;
      if (m.type === 'track-cgroup') cgroups.add(m.path);
      else cgroups.delete(m.path);
      return;
    case 'socket':
      if (typeof m.path === 'string' && m.path.endsWith('.sock')) socketPath = m.path;
      return;
    case 'kill-all':
      killAll();
      return;
    case 'done':
      orderly = true;
      return;
  }
});

function killAll(): void {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const cg of cgroups) killCgroup(cg);
}

/** The kernel's state letter from /proc/<pid>/stat (R, S, T, Z...), undefined when it is gone. */
function kernelState(): string | undefined {
  try {
    const stat = readFileSync(`/proc/${kernelPid}/stat`, 'latin1');
    return stat.charAt(stat.lastIndexOf(')') + 2);
  } catch {
    return undefined;
  }
}

let stoppedSince: number | undefined;
const watch = setInterval(() => {
  // A channel that closed while this module loaded emitted 'disconnect' to nobody.
  if (!process.connected) {
    lost();
    return;
  }
  // 'T' is a job-control stop (SIGSTOP, SIGTSTP); 't' (a debugger's) is left alone.
  if (kernelState() !== 'T') {
    stoppedSince = undefined;
    return;
  }
  const now = Date.now();
  stoppedSince ??= now;
  if (now - stoppedSince < STOP_MS) return;
  try {
    process.kill(kernelPid, 'SIGCONT');
  } catch {
    return;
  }
  // Queued on the channel; the kernel reads it as soon as it runs again. From the first sighting: a lower bound.
  send({ type: 'kernel-stopped', for_ms: now - stoppedSince + WATCH_MS });
  stoppedSince = undefined;
}, WATCH_MS);

function send(m: { type: 'kernel-stopped'; for_ms: number } | { type: 'ready' }): void {
  try {
    process.send?.(m);
  } catch {
    // channel gone: the disconnect handler takes over
  }
}

process.on('disconnect', lost);
if (process.connected) send({ type: 'ready' });
else lost();

function lost(): void {
  clearInterval(watch);
  killAll();
  if (!orderly) {
    // The kernel died without closing the run: keep the record it could not write.
    if (runDir) writeLostReport(runDir, { runId, kernelPid, reaperPid: process.pid });
    if (socketPath) {
      try {
        unlinkSync(socketPath);
      } catch {
        // already gone
      }
    }
  }
  // A second pass: processes forked while the first kill ran, then the now-empty cgroups go.
  killAll();
  for (const cg of cgroups) removeCgroup(cg);
  process.exit(0);
}
