/**
 * What this machine gives AgentOS, as a list of checks with the fix for each missing piece: Node version,
 * /proc, cgroup containment, the Node permission model, Chromium, redis-server, python3. `agentos doctor`
 * prints it; the kernel can call `probePlatform` (or the parts: probeCgroups, findTool) to choose its
 * mechanisms. Looking only (plus one empty probe cgroup created and removed): it never changes the machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { platform, release } from 'node:os';
import { probeCgroups, type CgroupSupport } from './cgroup-probe.js';
import { pidIsolation } from './isolation.js';
import { CHROMIUM, findTool, isShim, PYTHON3, REDIS_SERVER, type ToolLookup } from './tools.js';

/** ok: usable; missing: not there (AgentOS falls back, or a feature is off); info: a fact, nothing to fix. */
export type CheckStatus = 'ok' | 'missing' | 'warn' | 'info';

export interface Check {
  /** Stable id, e.g. 'node', 'proc', 'cgroup.kill', 'tool.chromium'. */
  id: string;
  status: CheckStatus;
  /** One line: what was found. */
  detail: string;
  /** What to do about it (absent when ok). */
  fix?: string;
}

export interface PlatformReport {
  os: { platform: string; release: string; pretty?: string };
  node: string;
  cgroups: CgroupSupport;
  tools: { chromium: ToolLookup; redis: ToolLookup; python: ToolLookup & { shim: boolean } };
  checks: Check[];
}

/** Lowest Node major AgentOS supports (package.json engines: >=20.5). */
export const MIN_NODE: readonly [number, number] = [20, 5];

function osPretty(): string | undefined {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Which flag turns on Node's permission model in this Node, if any. */
export function permissionFlag(): '--permission' | '--experimental-permission' | undefined {
  const flags = process.allowedNodeEnvironmentFlags;
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return undefined;
}

function nodeCheck(version: string): Check {
  const [maj = 0, min = 0] = version.replace(/^v/, '').split('.').map(Number);
  const ok = maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
  return ok
    ? { id: 'node', status: 'ok', detail: `Node ${version}` }
    : { id: 'node', status: 'missing', detail: `Node ${version} is older than ${MIN_NODE.join('.')}`, fix: 'install Node 20.5 or later (https://nodejs.org, or your distribution\'s nodejs 20 package)' };
}

function cgroupChecks(c: CgroupSupport): Check[] {
  const out: Check[] = [];
  const where = c.v2 ? `cgroup v2 at ${c.v2.own.mount.mountPoint} (${c.v2.layout === 'hybrid' ? 'hybrid layout, beside v1' : 'pure v2'}), our cgroup ${c.v2.own.path}` : 'no cgroup v2 hierarchy';
  out.push({ id: 'cgroup', status: c.available ? 'info' : 'missing', detail: c.available ? `${where}; ${c.root ? 'running as root' : c.v2?.delegated ? 'our cgroup is delegated to this user' : 'not root, our cgroup not delegated'}` : 'no cgroups (not Linux, or /proc/self/cgroup unreadable)', ...(c.available ? {} : { fix: 'cgroups need Linux; without them descendants are found by walking /proc (best effort) and memory is sampled' }) });
  const noWrite = c.v2 && !c.v2.writable ? `cannot create a cgroup under ${c.v2.own.dir}` : undefined;
  out.push(
    c.use.kill === 'cgroup.kill'
      ? { id: 'cgroup.kill', status: 'ok', detail: 'cgroup.kill: an agent\'s whole process tree ends with one write, daemons included' }
      : { id: 'cgroup.kill', status: 'missing', detail: noWrite ?? (c.v2 ? 'cgroup v2 without cgroup.kill (Linux < 5.14)' : 'no cgroup v2'), fix: c.v2 && !c.v2.writable ? 'run as root, or under a systemd delegated scope: systemd-run --user --scope -p Delegate=yes agentos ...' : 'Linux 5.14 or later with cgroup v2 (systemd.unified_cgroup_hierarchy=1); without it a process that double-forks can escape' },
  );
  const v2mem = c.v2?.controllers.includes('memory');
  out.push(
    c.use.memory !== 'none'
      ? { id: 'cgroup.memory', status: 'ok', detail: c.use.memory === 'v2' ? 'memory controller (v2, memory.max): quotas enforced at the byte' : `memory controller (v1, memory.limit_in_bytes, writable at ${c.v1Memory!.own.dir}): quotas enforced at the byte` }
      : { id: 'cgroup.memory', status: 'missing', detail: v2mem === false && c.v2 ? 'no memory controller in our v2 cgroup and no writable v1 memory hierarchy' : 'no usable memory controller', fix: 'enable the memory controller for our cgroup (systemd: Delegate=yes; or run as root); without it the quota is the sampled RSS' },
  );
  out.push(
    c.use.pids !== 'none'
      ? { id: 'cgroup.pids', status: 'ok', detail: `pids controller (${c.use.pids}): a fork bomb stops at the agent's pids limit` }
      : { id: 'cgroup.pids', status: 'missing', detail: 'no usable pids controller', fix: 'enable the pids controller for our cgroup (systemd: Delegate=yes; or run as root); without it a fork bomb is only stopped by the quota and timeout' },
  );
  return out;
}

function toolCheck(id: string, t: ToolLookup, why: string, fix: string): Check {
  return t.path ? { id, status: 'ok', detail: `${t.name}: ${t.path}` } : { id, status: 'missing', detail: `${t.name} not found (tried ${t.tried.join(', ')}); ${why}`, fix };
}

/** Probe this machine. Never throws; takes a few milliseconds. */
export function probePlatform(): PlatformReport {
  const cgroups = probeCgroups();
  const chromium = findTool(CHROMIUM);
  const redis = findTool(REDIS_SERVER);
  const pyLookup = findTool(PYTHON3);
  const python = { ...pyLookup, shim: pyLookup.path !== undefined && isShim(pyLookup.path) };
  const checks: Check[] = [nodeCheck(process.version)];
  const proc = existsSync('/proc/self/stat') && existsSync(`/proc/${process.pid}/task`);
  checks.push(proc ? { id: 'proc', status: 'ok', detail: '/proc: descendants, RSS and CPU are read from it' } : { id: 'proc', status: 'missing', detail: 'no /proc: descendants and memory are found through ps (slower, coarser)', fix: 'use Linux (or WSL 2) for full containment' });
  checks.push(...cgroupChecks(cgroups));
  const perm = permissionFlag();
  const iso = pidIsolation();
  checks.push(iso.ok ? { id: 'isolation.pid', status: 'ok', detail: `isolation: pid (agent.yaml): ${iso.detail}` } : { id: 'isolation.pid', status: 'missing', detail: `isolation: pid (agent.yaml) unavailable: ${iso.detail}`, ...(iso.fix ? { fix: iso.fix } : {}) });
  checks.push(perm ? { id: 'permission', status: 'ok', detail: `Node permission model: ${perm} (agents' file and child-process access is limited)` } : { id: 'permission', status: 'missing', detail: 'this Node has no permission model flag', fix: 'Node 20.5 or later' });
  const inst = (apt: string, dnf: string, brew: string): string => `apt-get install ${apt} (Debian/Ubuntu), dnf install ${dnf} (openEuler/Fedora), brew install ${brew} (macOS)`;
  checks.push(toolCheck('tool.chromium', chromium, 'the browser tests of the dashboard are skipped', `${inst('chromium', 'chromium', '--cask chromium')}, or set AGENTOS_CHROMIUM to a Chromium/Chrome binary`));
  checks.push(toolCheck('tool.redis-server', redis, 'tests that need a Redis server are skipped', `${inst('redis-server', 'redis', 'redis')}, or set AGENTOS_REDIS_SERVER`));
  const pyFix = `${inst('python3', 'python3', 'python')}, or set AGENTOS_PYTHON`;
  if (!python.path) checks.push(toolCheck('tool.python3', python, 'Python agents cannot run', pyFix));
  else if (python.shim) {
    const alt = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'a real interpreter';
    checks.push({ id: 'tool.python3', status: 'warn', detail: `python3: ${python.path} is a version-manager shim (pyenv): about 80 ms more per Python agent start`, fix: `set AGENTOS_PYTHON=${alt} (or put ${alt} first on PATH)` });
  } else checks.push({ id: 'tool.python3', status: 'ok', detail: `python3: ${python.path}` });
  return { os: { platform: platform(), release: release(), pretty: osPretty() }, node: process.version, cgroups, tools: { chromium, redis, python }, checks };
}
