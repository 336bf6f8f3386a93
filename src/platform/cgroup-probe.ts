/**
 * What cgroup containment this process can use, found by looking (mountinfo, /proc/self/cgroup) and by
 * trying (creating and removing one empty child cgroup under our own): cgroup v2 at /sys/fs/cgroup (pure
 * v2) or /sys/fs/cgroup/unified (hybrid), the v1 memory and pids controllers. The parsers are pure
 * functions over the files' text so they can be tested with other machines' layouts; `probeCgroups` reads
 * this machine. Nothing is left behind: a probe cgroup is removed at once (it never holds a process).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One cgroup hierarchy mounted on this machine (a line of /proc/self/mountinfo). */
export interface CgroupMount {
  /** 2 for cgroup2, 1 for a v1 hierarchy. */
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/unified. */
  mountPoint: string;
  /** The mount's root inside the hierarchy ('/' unless a container mounted a subtree). */
  root: string;
  /** v1: the controllers bound to it (memory, pids, ...). v2: empty. */
  controllers: string[];
}

/** A hierarchy and this process's own cgroup in it. */
export interface OwnCgroup {
  mount: CgroupMount;
  /** Path of our cgroup inside the hierarchy (from /proc/self/cgroup), e.g. '/' or '/user.slice/...'. */
  path: string;
  /** The directory of our cgroup, e.g. /sys/fs/cgroup/unified/ or /sys/fs/cgroup/memory/foo. */
  dir: string;
}

export interface CgroupV2Support {
  own: OwnCgroup;
  /** 'v2': the only hierarchy (pure v2); 'hybrid': v2 beside v1 hierarchies. */
  layout: 'v2' | 'hybrid';
  /** Controllers our cgroup's children may use (our cgroup.controllers). */
  controllers: string[];
  /** We could create (and removed) a child cgroup under our own. */
  writable: boolean;
  /** That child had cgroup.kill (Linux >= 5.14): one write ends a whole process tree. */
  kill: boolean;
  /** Our cgroup directory belongs to our uid (systemd delegation to a user) or we are root. */
  delegated: boolean;
}

export interface CgroupV1Support {
  own: OwnCgroup;
  /** We could create (and removed) a child cgroup under our own in this hierarchy. */
  writable: boolean;
}

/** Everything the kernel (and `agentos doctor`) needs to choose a containment mechanism. */
export interface CgroupSupport {
  available: boolean;
  v2: CgroupV2Support | undefined;
  v1Memory: CgroupV1Support | undefined;
  v1Pids: CgroupV1Support | undefined;
  /** Effective uid 0. */
  root: boolean;
  /** The mechanisms usable for agents: kill a tree, a byte-exact memory limit, a pids limit. */
  use: { kill: 'cgroup.kill' | 'none'; memory: 'v2' | 'v1' | 'none'; pids: 'v2' | 'v1' | 'none' };
}

/** Parse /proc/self/mountinfo: every cgroup and cgroup2 mount. */
export function parseMountinfo(text: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const unescape = (s: string): string => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const known = new Set(['rw', 'ro', 'nsdelegate', 'memory_recursiveprot', 'clone_children', 'noprefix', 'xattr', 'favordynmods', 'memory_localevents']);
    out.push({
      version: fstype === 'cgroup2' ? 2 : 1,
      root: unescape(pre[3] ?? '/'),
      mountPoint: unescape(pre[4] ?? ''),
      controllers: fstype === 'cgroup2' ? [] : superOpts.split(',').filter((o) => !known.has(o) && !o.includes('=')),
    });
  }
  return out;
}

/** Parse /proc/self/cgroup: hierarchy id 0 (v2) or the v1 controller list -> our path in it. */
export function parseProcCgroup(text: string): { v2: string | undefined; v1: Map<string, string> } {
  let v2: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else for (const c of m[2]!.split(',')) if (c) v1.set(c, m[3]!);
  }
  return { v2, v1 };
}

/** Our cgroup's directory in a mount: the mount shows the hierarchy from `root` down (containers). */
export function ownDir(mount: CgroupMount, path: string): string {
  let rel = path;
  if (mount.root !== '/' && (rel === mount.root || rel.startsWith(`${mount.root}/`))) rel = rel.slice(mount.root.length) || '/';
  return join(mount.mountPoint, rel);
}

function readOr(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** Create and remove one empty child cgroup; returns the files it had (empty when it could not be made). */
function tryChild(dir: string): string[] | undefined {
  const probe = join(dir, `agentos-probe-${process.pid}`);
  try {
    mkdirSync(probe);
  } catch {
    return undefined;
  }
  try {
    return ['cgroup.kill', 'memory.max', 'pids.max', 'memory.limit_in_bytes'].filter((f) => existsSync(join(probe, f)));
  } finally {
    try {
      rmdirSync(probe);
    } catch {
      // an empty cgroup is always removable; nothing else can be done here
    }
  }
}

/** Inputs of probeCgroups (this machine's files unless given). */
export interface CgroupProbeInput {
  mountinfo?: string;
  procCgroup?: string;
  /** Try creating a child cgroup (the only sure test of write access). @default true */
  tryCreate?: boolean;
}

/** Look at (and try) this machine's cgroups. Never throws. */
export function probeCgroups(input: CgroupProbeInput = {}): CgroupSupport {
  const mounts = parseMountinfo(input.mountinfo ?? readOr('/proc/self/mountinfo'));
  const mine = parseProcCgroup(input.procCgroup ?? readOr('/proc/self/cgroup'));
  const uid = process.getuid?.();
  const root = process.geteuid?.() === 0;
  const tryCreate = input.tryCreate ?? true;

  let v2: CgroupV2Support | undefined;
  const m2 = mounts.find((m) => m.version === 2);
  if (m2 && mine.v2 !== undefined) {
    const own: OwnCgroup = { mount: m2, path: mine.v2, dir: ownDir(m2, mine.v2) };
    const files = tryCreate ? tryChild(own.dir) : undefined;
    let owner: number | undefined;
    try {
      owner = statSync(own.dir).uid;
    } catch {
      owner = undefined;
    }
    v2 = {
      own,
      layout: mounts.some((m) => m.version === 1 && m.controllers.length > 0) ? 'hybrid' : 'v2',
      controllers: readOr(join(own.dir, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean),
      writable: files !== undefined,
      kill: files?.includes('cgroup.kill') ?? false,
      delegated: root || (owner !== undefined && owner === uid),
    };
  }
  const v1 = (controller: string): CgroupV1Support | undefined => {
    const m = mounts.find((x) => x.version === 1 && x.controllers.includes(controller));
    const path = mine.v1.get(controller);
    if (!m || path === undefined) return undefined;
    const own: OwnCgroup = { mount: m, path, dir: ownDir(m, path) };
    return { own, writable: tryCreate ? tryChild(own.dir) !== undefined : false };
  };
  const v1Memory = v1('memory');
  const v1Pids = v1('pids');
  const v2Has = (c: string): boolean => v2 !== undefined && v2.writable && v2.controllers.includes(c);
  return {
    available: v2 !== undefined || v1Memory !== undefined || v1Pids !== undefined,
    v2,
    v1Memory,
    v1Pids,
    root,
    use: {
      kill: v2?.kill ? 'cgroup.kill' : 'none',
      memory: v2Has('memory') ? 'v2' : v1Memory?.writable ? 'v1' : 'none',
      pids: v2Has('pids') ? 'v2' : v1Pids?.writable ? 'v1' : 'none',
    },
  };
}
