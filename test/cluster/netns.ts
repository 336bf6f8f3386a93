/**
 * A small network lab for partition tests, where the test runs as root and `ip` exists: one network
 * namespace per test host plus a "switch" namespace holding a bridge; each host has `eth0` (a veth whose
 * peer is a bridge port) with a 10.x address. Everything lives inside namespaces this file creates: the
 * machine's own namespace gets no interface, address or route. Cutting a host off sets its bridge port
 * down (a pulled cable: the host's own interface stays up, its packets just go nowhere).
 *
 *   const why = netnsUnavailable();                  // null, or why not (a notice is printed)
 *   describe.skipIf(why !== null)('…', () => { … });
 *   const lab = await NetLab.create(['redis', 'n1']);
 *   lab.spawn('n1', 'redis-cli', ['-h', lab.addr('redis'), 'PING']);
 *   await lab.linkDown('n1'); … await lab.linkUp('n1');
 *   afterAll(() => lab.destroy());                   // kills what runs inside, deletes the namespaces
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { findTool } from '../../src/platform/tools.js';

const IP = { name: 'ip', env: 'AGENTOS_IP', candidates: ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', 'ip'] };

let notice: string | null | undefined;

/** null when the lab can be built here; otherwise the reason, printed once as a skip notice. */
export function netnsUnavailable(): string | null {
  if (notice !== undefined) return notice;
  const ip = findTool(IP).path;
  notice = process.getuid?.() !== 0 ? 'not running as root' : !ip ? '`ip` (iproute2) not found' : null;
  if (notice) process.stderr.write(`\nNOTICE: network-namespace tests skipped: ${notice}.\n\n`);
  return notice;
}

function ipPath(): string {
  const p = findTool(IP).path;
  if (!p) throw new Error('ip not found');
  return p;
}

/** Run `ip ARGS`; throws with its stderr when it fails. */
function ip(args: string[]): string {
  const r = spawnSync(ipPath(), args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout;
}

export class NetLab {
  private readonly created: string[] = [];
  private readonly hosts = new Map<string, { ns: string; port: string; addr: string }>();

  private constructor(
    /** Short random prefix of every namespace name: tests of several people can run side by side. */
    readonly prefix: string,
    private readonly subnet: string,
  ) {}

  /** Build the lab: one namespace per host name, all on one bridge. Torn down again if any step fails. */
  static async create(hostNames: string[]): Promise<NetLab> {
    if (hostNames.length === 0 || hostNames.length > 200) throw new Error('between 1 and 200 hosts');
    const prefix = `aos${randomBytes(3).toString('hex')}`;
    const b = randomBytes(2);
    const lab = new NetLab(prefix, `10.${200 + (b[0]! % 50)}.${b[1]!}`);
    try {
      const sw = lab.addNs('sw');
      ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', sw, 'link', 'set', 'br0', 'up']);
      hostNames.forEach((name, i) => {
        const ns = lab.addNs(`h${i}`);
        const port = `p${i}`;
        const addr = `${lab.subnet}.${i + 1}`;
        // The pair is made inside the switch namespace and one end moved straight into the host's.
        ip(['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        ip(['-n', sw, 'link', 'set', port, 'master', 'br0']);
        ip(['-n', sw, 'link', 'set', port, 'up']);
        ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        lab.hosts.set(name, { ns, port, addr });
      });
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private addNs(suffix: string): string {
    const ns = `${this.prefix}-${suffix}`;
    ip(['netns', 'add', ns]);
    this.created.push(ns);
    return ns;
  }

  private host(name: string): { ns: string; port: string; addr: string } {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host '${name}' in this lab (${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  /** The host's 10.x address. */
  addr(name: string): string {
    return this.host(name).addr;
  }

  /** The host's namespace name (for `ip netns exec`). */
  ns(name: string): string {
    return this.host(name).ns;
  }

  /** The command prefix that runs a program inside the host's namespace. */
  wrap(name: string): string[] {
    return [ipPath(), 'netns', 'exec', this.ns(name)];
  }

  /** Start a program inside the host's namespace (`ip netns exec` execs it: the pid is the program's). */
  spawn(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const [bin, ...pre] = this.wrap(name);
    return spawn(bin!, [...pre, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  }

  /** Run a program inside the host's namespace to its end. */
  run(name: string, cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const p = this.spawn(name, cmd, args);
      let stdout = '';
      let stderr = '';
      p.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
      p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      p.once('error', reject);
      p.once('close', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Cut the host off: its bridge port goes down. */
  async linkDown(name: string): Promise<void> {
    ip(['-n', `${this.prefix}-sw`, 'link', 'set', this.host(name).port, 'down']);
  }

  /** Join it again. */
  async linkUp(name: string): Promise<void> {
    ip(['-n', `${this.prefix}-sw`, 'link', 'set', this.host(name).port, 'up']);
  }

  /**
   * Kill every process still inside the lab's namespaces (by pid, from `ip netns pids`: only processes in
   * namespaces this lab created) and delete the namespaces (their veths and bridge go with them).
   * Idempotent; collects errors and throws them together at the end.
   */
  async destroy(): Promise<void> {
    const errors: string[] = [];
    for (const ns of this.created.splice(0).reverse()) {
      try {
        const pids = ip(['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        ip(['netns', 'del', ns]);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    this.hosts.clear();
    if (errors.length > 0) throw new Error(`network lab teardown: ${errors.join('; ')}`);
  }

  /** Namespaces of this lab that still exist (for tests asserting the teardown). */
  static existing(prefix: string): string[] {
    return ip(['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(`${prefix}-`));
  }
}
