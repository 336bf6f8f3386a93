/**
 * detect(): what this machine allows for containing agent processes, read from /proc/self/mountinfo,
 * /proc/self/cgroup and our own cgroup's files. Nothing is created or changed.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { readPids, readText } from './cgfs.js';
import type { Capabilities, KillMechanism, Mechanism, MemoryMechanism, PidsMechanism, V1Facts, V2Facts } from './types.js';

/** Where detect() reads from; tests point `proc` at a fixture tree. */
export interface DetectOptions {
  /** The procfs root (default `/proc`); `<proc>/self/{mountinfo,cgroup}` are read. */
  proc?: string;
  /** Our pid, to tell our own process from others in our cgroup (default process.pid). */
  pid?: number;
}

interface Mount {
  root: string;
  point: string;
  fstype: string;
  ro: boolean;
  superOpts: string[];
}

/** Octal escapes of mountinfo (`\040` for a space). */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));

/** cgroup and cgroup2 mounts from mountinfo text. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6) continue;
    const fstype = f[dash + 1] ?? '';
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ root: unescape(f[3]!), point: unescape(f[4]!), fstype, ro: (f[5] ?? '').split(',').includes('ro'), superOpts: (f[dash + 3] ?? '').split(',') });
  }
  return out;
}

/** /proc/self/cgroup lines: `0::/path` for v2, `<id>:<controllers>:/path` for v1. */
export function parseSelfCgroup(text: string): { v2: string | null; v1: Map<string, string> } {
  let v2: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else for (const c of m[2]!.split(',')) v1.set(c, m[3]!);
  }
  return { v2, v1 };
}

/** Absolute directory of a cgroup path in a mount (the mount may show a subtree: its root is stripped). */
function dirIn(mount: Mount, cgPath: string): string | null {
  const root = mount.root === '/' ? '' : mount.root;
  if (root && cgPath !== root && !cgPath.startsWith(root + '/')) return null;
  const rel = cgPath.slice(root.length);
  return rel && rel !== '/' ? join(mount.point, rel) : mount.point;
}

function writable(dir: string, ro: boolean): boolean {
  if (ro) return false;
  try {
    accessSync(dir, constants.W_OK);
    accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const uidOf = (path: string): number => {
  try {
    return statSync(path).uid;
  } catch {
    return -1;
  }
};
const words = (path: string): string[] => (readText(path) ?? '').trim().split(/\s+/).filter(Boolean);

/** cgroup.kill appeared in Linux 5.14, cgroup.freeze in 5.2; the root cgroup has neither file, so ask a child or the version. */
function kernelAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = release().split(/[.-]/).map(Number);
  return a > major || (a === major && b >= minor);
}

function v2Facts(mounts: Mount[], path: string | null, pid: number): V2Facts | null {
  const mount = mounts.find((m) => m.fstype === 'cgroup2');
  if (!mount || path === null) return null;
  const own = dirIn(mount, path);
  if (!own || !existsSync(join(own, 'cgroup.procs'))) return null;
  const ownIsRoot = !existsSync(join(own, 'cgroup.type')); // only non-root cgroups have cgroup.type
  return {
    mount: mount.point,
    own_dir: own,
    own_is_root: ownIsRoot,
    writable: writable(own, mount.ro),
    owner_uid: uidOf(own),
    kill: ownIsRoot ? kernelAtLeast(5, 14) : existsSync(join(own, 'cgroup.kill')),
    freeze: ownIsRoot ? kernelAtLeast(5, 2) : existsSync(join(own, 'cgroup.freeze')),
    available: words(join(own, 'cgroup.controllers')),
    enabled: words(join(own, 'cgroup.subtree_control')),
    other_procs: readPids(join(own, 'cgroup.procs')).filter((p) => p !== pid).length,
  };
}

function v1Facts(mounts: Mount[], paths: Map<string, string>, controller: V1Facts['controller']): V1Facts | null {
  const mount = mounts.find((m) => m.fstype === 'cgroup' && m.superOpts.includes(controller));
  const path = paths.get(controller);
  if (!mount || path === undefined) return null;
  const own = dirIn(mount, path);
  if (!own || !existsSync(join(own, 'cgroup.procs'))) return null;
  return {
    controller,
    mount: mount.point,
    own_dir: own,
    writable: writable(own, mount.ro),
    owner_uid: uidOf(own),
    swap_accounting: controller === 'memory' && existsSync(join(own, 'memory.memsw.limit_in_bytes')),
  };
}

/**
 * Can agents' v2 cgroups get controller `c`? It must be available to our cgroup, and either enabled
 * already or enableable: the root may always enable; a non-root cgroup only with no process inside,
 * which Containment arranges by moving the kernel into a leaf — possible only when it is alone there.
 */
export function v2Can(v2: V2Facts, c: string): boolean {
  return v2.writable && v2.available.includes(c) && (v2.enabled.includes(c) || v2.own_is_root || v2.other_procs === 0);
}

/** Pick the mechanisms from the facts; `notes` say what is missing and how to get it. */
export function plan(v2: V2Facts | null, v1: Capabilities['v1']): { plan: Capabilities['plan']; notes: string[] } {
  const notes: string[] = [];
  const v2w = v2?.writable ? v2 : null;
  if (v2 && !v2.writable) notes.push(`cgroup v2: our cgroup ${v2.own_dir} is not writable (run under a delegated scope: systemd-run --user --scope -p Delegate=yes agentos ...)`);
  const kill: KillMechanism = v2w?.kill ? 'cgroup-v2-kill' : v2w?.freeze ? 'cgroup-v2-freeze' : v1.freezer?.writable ? 'cgroup-v1-freeze' : v1.memory?.writable || v1.pids?.writable ? 'cgroup-procs' : 'proc-walk';
  const memory: MemoryMechanism = v2w && v2Can(v2w, 'memory') ? 'cgroup-v2' : v1.memory?.writable ? 'cgroup-v1' : 'rss-sample';
  const pids: PidsMechanism = v2w && v2Can(v2w, 'pids') ? 'cgroup-v2' : v1.pids?.writable ? 'cgroup-v1' : 'none';
  if (v2w && v2w.available.includes('memory') && memory !== 'cgroup-v2') notes.push(`cgroup v2: memory controller cannot be enabled below ${v2w.own_dir}: ${v2w.other_procs} other process(es) share it (start agentos in its own scope)`);
  if (memory === 'rss-sample') notes.push('no writable memory cgroup: the memory quota is enforced by sampling RSS between ticks, not at the byte');
  if (pids === 'none') notes.push('no writable pids cgroup: fork bombs are not limited');
  if (kill === 'proc-walk') notes.push('no writable cgroup: descendants are found by walking /proc (best effort; a double-forked daemon that clears its environment escapes)');
  const v2kill = kill === 'cgroup-v2-kill' || kill === 'cgroup-v2-freeze';
  let mechanism: Mechanism;
  if (v2kill) mechanism = memory === 'cgroup-v2' ? 'cgroup-v2' : memory === 'cgroup-v1' ? 'cgroup-v1-memory+v2-kill' : 'cgroup-v2-kill';
  else mechanism = kill === 'proc-walk' ? 'proc-walk' : 'cgroup-v1';
  return { plan: { mechanism, kill, memory, pids }, notes };
}

/** What this machine allows (see Capabilities). Never throws: an unreadable file means "not available". */
export function detect(opts: DetectOptions = {}): Capabilities {
  const proc = opts.proc ?? '/proc';
  const pid = opts.pid ?? process.pid;
  const mounts = parseMountinfo(readText(join(proc, 'self/mountinfo')) ?? '');
  const self = parseSelfCgroup(readText(join(proc, 'self/cgroup')) ?? '');
  const v2 = v2Facts(mounts, self.v2, pid);
  const v1 = { memory: v1Facts(mounts, self.v1, 'memory'), pids: v1Facts(mounts, self.v1, 'pids'), freezer: v1Facts(mounts, self.v1, 'freezer') };
  const anyV1 = mounts.some((m) => m.fstype === 'cgroup');
  const layout: Capabilities['layout'] = v2 && anyV1 ? 'hybrid' : v2 ? 'v2' : anyV1 ? 'v1' : 'none';
  const { plan: p, notes } = plan(v2, v1);
  return { layout, v2, v1, proc_children: existsSync(`/proc/${process.pid}/task/${process.pid}/children`), plan: p, notes };
}
