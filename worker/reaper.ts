/**
 * The reaper: one small process per kernel (node builtins only) that
 * - remembers every agent process group and every agent cgroup the kernel tells it about, and kills
 *   them all when its IPC channel closes (the kernel exited or was SIGKILLed) or on `kill-all`; agents
 *   also exit on disconnect, but a busy-looping one never sees that event;
 * - watches its kernel: a kernel left stopped (SIGSTOP from an agent) is continued after
 *   `AGENTOS_REAPER_STOP_MS` and told for how long (`kernel-stopped`), so its timeouts fire and the run ends;
 * - when the kernel is lost (channel closed without `done`): writes a minimal `report.json` marked
 *   `kernel_lost` from what events.jsonl holds, and removes the kernel's stale control socket.
 * Every group is tracked with its leader's start time (/proc/<pid>/stat field 22) and is signalled only
 * while that number can still be that group (src/protocol/pid-identity.ts): an untrack that never came
 * (lost while a restarted reaper loaded, sent after the channel closed) must not SIGKILL whoever got the
 * number since — another run's agent, say.
 * Messages (kernel -> reaper): track {pgid, start}, untrack {pgid}, track-cgroup/untrack-cgroup {path},
 * sync {groups: [pgid, start][], cgroups} (replaces everything: sent on ready), socket {path}, kill-all, done. (reaper -> kernel): ready (its handlers are attached: messages sent before may have been
 * emitted to nobody while this ES module loaded, so the kernel sends what it tracks again), kernel-stopped {for_ms}.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { ENV } from '../src/protocol/messages.js';
import { pidStart, signalGroupIfSame, signalIfSame } from '../src/protocol/pid-identity.js';
import { killCgroup, removeCgroup, validCgroupPath } from './reaper-cgroup.js';
import { writeLostReport } from './reaper-report.js';

type ReaperMessage =
  | { type: 'track'; pgid: number; start: string }
  | { type: 'untrack'; pgid: number }
  | { type: 'sync'; groups: unknown; cgroups: unknown }
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
/** The kernel's identity: its pid alone may be reused once it is gone. */
const kernelStart = pidStart(kernelPid);
/** How often the kernel's state is read (ms). */
const WATCH_MS = positive(process.env.AGENTOS_REAPER_WATCH_MS, 200);
/** How long a stopped kernel stays stopped before it is continued (ms). */
const STOP_MS = positive(process.env.AGENTOS_REAPER_STOP_MS, 1000);

/** Tracked process groups: pgid -> the leader's start time. */
const groups = new Map<number, string>();
const cgroups = new Set<string>();
let socketPath: string | undefined;
let orderly = false;
inherit(process.env.AGENTOS_REAPER_TRACKED);

/** What a previous reaper of this kernel tracked (set by the kernel when it starts another). */
function inherit(json: string | undefined): void {
  if (!json) return;
  try {
    const t = JSON.parse(json) as { groups?: unknown; cgroups?: unknown };
    replace(t.groups, t.cgroups);
  } catch {
    // unreadable: the kernel sends everything again once this reaper is ready
  }
}

/** A pgid worth tracking: > 1, with a start time (no start, no identity: never signalled). */
function validGroup(pgid: unknown, start: unknown): pgid is number {
  return typeof pgid === 'number' && Number.isInteger(pgid) && pgid > 1 && typeof start === 'string' && /^\d+$/.test(start);
}

/** Replace every tracked group and cgroup: `groups` is [pgid, start][]. */
function replace(gs: unknown, cgs: unknown): void {
  groups.clear();
  cgroups.clear();
  if (Array.isArray(gs)) for (const g of gs) if (Array.isArray(g) && validGroup(g[0], g[1])) groups.set(g[0], g[1] as string);
  if (Array.isArray(cgs)) for (const c of cgs) if (validCgroupPath(c)) cgroups.add(c);
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
      if (validGroup(m.pgid, m.start)) groups.set(m.pgid, m.start);
      return;
    case 'untrack':
      if (typeof m.pgid === 'number') groups.delete(m.pgid);
      return;
    case 'sync':
      replace(m.groups, m.cgroups);
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
  for (const [pgid, start] of groups) {
    // A number now held by another process: our group is gone for good (never signal it again).
    if (signalGroupIfSame(pgid, start, 'SIGKILL') === 'reused') groups.delete(pgid);
  }
  for (const cg of cgroups) killCgroup(cg);
}

/** The kernel's state letter from /proc/<pid>/stat (R, S, T, Z...), undefined when it is gone. */
function kernelState(): string | undefined {
  if (kernelStart === null || pidStart(kernelPid) !== kernelStart) return undefined;
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
  if (kernelStart === null || !signalIfSame(kernelPid, kernelStart, 'SIGCONT')) return;
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
