/**
 * AgentCell: the cgroups (or, without them, the /proc walk) that hold ONE agent process and everything
 * it starts. Made by Containment.cell(); one cell per process (a replacement process gets a new cell, so
 * OOM counters start at zero). Spawn-then-attach race: a process placed with attach() right after spawn
 * returns runs no user code yet in practice (Node needs ~30 ms to boot), but anything it forked before
 * the write stays in the kernel's cgroup; killAll() therefore also walks /proc (parentage + env tag) and
 * reports what it finds outside the cgroup as escaped. launcher() closes the race completely.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cmdline, isLive, isSameLive, readKeyed, readNumber, readPids, readText, rmdirRetry, signal, sleep, startTime, writeControl } from './cgfs.js';
import { killTree } from './kill-tree.js';
import { treeRssBytes, type TreeMemory } from './memory.js';
import { walkTree } from './proc-walk.js';
import type { Capabilities, CellReport, EscapedProcess, KillMechanism, MemoryMechanism, PidsMechanism } from './types.js';

/** The cgroup directories of a cell, per hierarchy; null where that hierarchy is not used. */
export interface CellDirs {
  v2: string | null;
  memory: string | null;
  pids: string | null;
  freezer: string | null;
}

/** What killAll() did. */
export interface CellKillResult {
  via: KillMechanism;
  /** Pids that were in the cell (or its tree) when the kill began. */
  killed: number[];
  /** Pids still alive at the deadline (empty on success). */
  remaining: number[];
  /** Processes found outside the cgroup by parentage or tag (killed: true when ended). */
  escaped: EscapedProcess[];
}

const LAUNCH_SCRIPT = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; n=$((n-1)); done; exec "$@"';

export class AgentCell {
  /** The agent process, once attached. */
  pid: number | null = null;
  /** The agent's start time at attach: the walk follows its parentage only while it is still that process. */
  private pidStart: string | null = null;
  private readonly escapedLog: EscapedProcess[] = [];
  private oomSeen = 0;

  constructor(
    readonly agent: string,
    readonly instance: number,
    /** The AGENTOS_RUN_TAG value to put in the child's environment. */
    readonly tag: string,
    readonly dirs: CellDirs,
    readonly plan: Capabilities['plan'],
  ) {}

  /** The cgroup.procs files a process is written to, kill hierarchy first. */
  procsFiles(): string[] {
    return [this.dirs.v2, this.dirs.freezer, this.dirs.memory, this.dirs.pids].filter((d): d is string => d !== null).map((d) => join(d, 'cgroup.procs'));
  }

  /**
   * Race-free start: `{file, args}` to spawn instead of (file, args): a /bin/sh that writes its own pid
   * into the cell, then execs the command (same pid). Exit code 126 if the placement failed. Call
   * attach(child.pid) afterwards as usual (a no-op write then). Without cgroups: (file, args) unchanged.
   */
  launcher(file: string, args: string[]): { file: string; args: string[] } {
    const files = this.procsFiles();
    if (files.length === 0) return { file, args };
    return { file: '/bin/sh', args: ['-c', LAUNCH_SCRIPT, 'agentos-cell', String(files.length), ...files, file, ...args] };
  }

  /**
   * Place process `pid` (the agent, right after spawn) in the cell. Throws AgentOSError `E_CONTAINMENT`
   * when a cgroup refuses it (ESRCH: already gone; EACCES: not ours) — the caller may fall back to the walk.
   */
  attach(pid: number): void {
    for (const f of this.procsFiles()) writeControl(f, `${pid}\n`);
    this.pid = pid;
    this.pidStart = startTime(pid);
  }

  /**
   * Record `pid` as the cell's agent without writing it anywhere: the process was started through
   * launcher(), which placed it before it ran (a second write would only cost another migration).
   */
  adopt(pid: number): void {
    this.pid = pid;
    this.pidStart = startTime(pid);
  }

  /**
   * Limit the cell's memory (bytes; page cache and kernel memory count). v2: memory.max, memory.swap.max=0,
   * memory.oom.group=1 (an OOM ends the whole tree, never half of it). v1: memory.limit_in_bytes and
   * memory.memsw.limit_in_bytes (same value: no swap escape), written in the order the kernel accepts.
   * Returns the mechanism used; `rss-sample` means none here: the caller must sample. Throws E_CONTAINMENT.
   */
  setMemoryLimit(bytes: number): MemoryMechanism {
    const v = String(Math.max(0, Math.floor(bytes)));
    if (this.plan.memory === 'cgroup-v2' && this.dirs.v2) {
      writeControl(join(this.dirs.v2, 'memory.max'), v);
      if (existsSync(join(this.dirs.v2, 'memory.swap.max'))) writeControl(join(this.dirs.v2, 'memory.swap.max'), '0');
      if (existsSync(join(this.dirs.v2, 'memory.oom.group'))) writeControl(join(this.dirs.v2, 'memory.oom.group'), '1');
      return 'cgroup-v2';
    }
    if (this.plan.memory === 'cgroup-v1' && this.dirs.memory) {
      const mem = join(this.dirs.memory, 'memory.limit_in_bytes');
      const memsw = join(this.dirs.memory, 'memory.memsw.limit_in_bytes');
      const files = existsSync(memsw) ? [mem, memsw] : [mem];
      // memsw must stay >= the memory limit: raise memsw first, lower memory first.
      if (Number(v) > (readNumber(mem) ?? 0)) files.reverse();
      for (const f of files) writeControl(f, v);
      return 'cgroup-v1';
    }
    return 'rss-sample';
  }

  /** Limit the number of tasks (threads count too) in the cell: fork() fails with EAGAIN beyond it. Throws E_CONTAINMENT. */
  setPidsLimit(n: number): PidsMechanism {
    const dir = this.plan.pids === 'cgroup-v2' ? this.dirs.v2 : this.plan.pids === 'cgroup-v1' ? this.dirs.pids : null;
    if (!dir) return 'none';
    writeControl(join(dir, 'pids.max'), String(Math.max(1, Math.floor(n))));
    return this.plan.pids;
  }

  /** Pids in the cell now (cgroup.procs; without cgroups the agent and its live tree by walk). Zombies excluded. */
  members(): number[] {
    const dir = this.dirs.v2 ?? this.dirs.freezer ?? this.dirs.memory ?? this.dirs.pids;
    if (dir) return readPids(join(dir, 'cgroup.procs')).filter(isLive);
    if (this.pid === null) return [];
    const root = this.pidStart !== null && isSameLive(this.pid, this.pidStart) ? [this.pid] : [];
    return [...root, ...walkTree(this.pid, { tag: this.tag, rootStart: this.pidStart }).map((f) => f.pid)].filter(isLive);
  }

  /** Memory of the whole tree: the cgroup's charge when there is a memory cgroup, else statm RSS by walk. Never throws. */
  memory(): TreeMemory {
    if (this.plan.memory === 'cgroup-v2' && this.dirs.v2) {
      const b = readNumber(join(this.dirs.v2, 'memory.current'));
      return { bytes: b ?? 0, pids: this.members().length, source: 'cgroup-v2', errors: b === null ? 1 : 0 };
    }
    if (this.plan.memory === 'cgroup-v1' && this.dirs.memory) {
      const b = readNumber(join(this.dirs.memory, 'memory.usage_in_bytes'));
      return { bytes: b ?? 0, pids: this.members().length, source: 'cgroup-v1', errors: b === null ? 1 : 0 };
    }
    if (this.pid === null) return { bytes: 0, pids: 0, source: 'statm', errors: 0 };
    return treeRssBytes(this.pid, { tag: this.tag, rootStart: this.pidStart });
  }

  /** OOM kills the kernel made in the cell (v2 memory.events oom_kill; v1 memory.oom_control oom_kill). */
  oomKills(): number {
    let n: number | undefined;
    if (this.plan.memory === 'cgroup-v2' && this.dirs.v2) n = readKeyed(join(this.dirs.v2, 'memory.events')).oom_kill;
    else if (this.plan.memory === 'cgroup-v1' && this.dirs.memory) n = readKeyed(join(this.dirs.memory, 'memory.oom_control')).oom_kill;
    // Remembered: the counter must survive remove() for the report.
    if (n !== undefined && n > this.oomSeen) this.oomSeen = n;
    return this.oomSeen;
  }

  /** The kernel OOM-killed a process of this cell: tells a memory kill from a crash (a SIGKILL either way). */
  oomKilled(): boolean {
    return this.oomKills() > 0;
  }

  /** Highest charge seen (bytes): v2 memory.peak (Linux 5.19+), v1 memory.max_usage_in_bytes; 0 if unknown. */
  memoryPeakBytes(): number {
    if (this.plan.memory === 'cgroup-v2' && this.dirs.v2) return readNumber(join(this.dirs.v2, 'memory.peak')) ?? 0;
    if (this.plan.memory === 'cgroup-v1' && this.dirs.memory) return readNumber(join(this.dirs.memory, 'memory.max_usage_in_bytes')) ?? 0;
    return 0;
  }

  /**
   * Times the memory limit was hit (v2 memory.events max; v1 memory.failcnt), reclaim included. Some
   * kernels leave the v1 failcnt at 0 (seen on 6.18): use oomKills()/memoryPeakBytes() to decide.
   */
  memoryLimitHits(): number {
    if (this.plan.memory === 'cgroup-v2' && this.dirs.v2) return readKeyed(join(this.dirs.v2, 'memory.events')).max ?? 0;
    if (this.plan.memory === 'cgroup-v1' && this.dirs.memory) return readNumber(join(this.dirs.memory, 'memory.failcnt')) ?? 0;
    return 0;
  }

  /** fork()s refused by the pids limit (pids.events max). */
  pidsLimitHits(): number {
    const dir = this.plan.pids === 'cgroup-v2' ? this.dirs.v2 : this.plan.pids === 'cgroup-v1' ? this.dirs.pids : null;
    return dir ? (readKeyed(join(dir, 'pids.events')).max ?? 0) : 0;
  }

  /** One kill pass of the cgroup mechanism over what is in the cell now. */
  private async cgroupPass(via: KillMechanism): Promise<void> {
    const members = this.members();
    if (members.length === 0) return;
    if (via === 'cgroup-v2-kill') {
      writeControl(join(this.dirs.v2!, 'cgroup.kill'), '1');
    } else if (via === 'cgroup-v2-freeze') {
      // Fatal signals reach frozen v2 tasks, so: freeze (no new forks), kill each, thaw.
      writeControl(join(this.dirs.v2!, 'cgroup.freeze'), '1');
      for (const p of this.members()) signal(p);
      writeControl(join(this.dirs.v2!, 'cgroup.freeze'), '0');
    } else if (via === 'cgroup-v1-freeze') {
      const state = join(this.dirs.freezer!, 'freezer.state');
      writeControl(state, 'FROZEN');
      for (let i = 0; i < 100 && readText(state)?.trim() !== 'FROZEN'; i++) await sleep(2);
      for (const p of readPids(join(this.dirs.freezer!, 'cgroup.procs'))) signal(p);
      writeControl(state, 'THAWED'); // v1 frozen tasks die only once thawed
    } else {
      for (const p of members) signal(p);
    }
  }

  /**
   * End every process of the cell: the cgroup mechanism (plan.kill) until cgroup.procs is empty, then a
   * /proc sweep (parentage from the agent + env tag) for anything outside the cgroup, which is killed and
   * reported as escaped. Without cgroups: killTree. Never throws (a refused write falls back to SIGKILL).
   */
  async killAll(deadlineMs = 2000): Promise<CellKillResult> {
    const via = this.dirs.v2 ?? this.dirs.freezer ?? this.dirs.memory ?? this.dirs.pids ? this.plan.kill : 'proc-walk';
    const deadline = Date.now() + deadlineMs;
    if (via === 'proc-walk') {
      if (this.pid === null) return { via, killed: [], remaining: [], escaped: [] };
      const r = await killTree(this.pid, { tag: this.tag, rootStart: this.pidStart, deadlineMs });
      const escaped = r.remaining.map((pid) => ({ pid, cmd: cmdline(pid), found_by: 'tag' as const, killed: false }));
      this.escapedLog.push(...escaped);
      return { via, killed: r.found.map((f) => f.pid), remaining: r.remaining, escaped };
    }
    const killed = this.members();
    let remaining = killed;
    while (remaining.length > 0 && Date.now() <= deadline) {
      try {
        await this.cgroupPass(via);
      } catch {
        for (const p of this.members()) signal(p); // a refused control write: plain SIGKILL of each member
      }
      await sleep(2);
      remaining = this.members();
    }
    const escaped: EscapedProcess[] = [];
    if (this.pid !== null) {
      const outside = walkTree(this.pid, { tag: this.tag, rootStart: this.pidStart }).filter((f) => isLive(f.pid));
      if (outside.length > 0) {
        const cmds = new Map(outside.map((f) => [f.pid, cmdline(f.pid)]));
        const r = await killTree(this.pid, { tag: this.tag, rootStart: this.pidStart, deadlineMs: Math.max(200, deadline - Date.now()) });
        for (const f of outside) escaped.push({ pid: f.pid, cmd: cmds.get(f.pid) ?? '', found_by: f.found_by, killed: !r.remaining.includes(f.pid) });
        remaining = [...remaining, ...r.remaining];
      }
    }
    this.escapedLog.push(...escaped);
    return { via, killed, remaining, escaped };
  }

  /**
   * Remove the cell's cgroups: killAll() first if anything is left, then rmdir each with bounded EBUSY
   * retries. Returns the directories that could not be removed, with the errno (empty on success).
   */
  async remove(deadlineMs = 2000): Promise<string[]> {
    if (this.members().length > 0) await this.killAll(deadlineMs);
    const failed: string[] = [];
    for (const d of [this.dirs.v2, this.dirs.freezer, this.dirs.memory, this.dirs.pids]) {
      if (!d) continue;
      const err = await rmdirRetry(d, deadlineMs);
      if (err) failed.push(`${d}: ${err}`);
    }
    return failed;
  }

  report(): CellReport {
    const cgroups = [this.dirs.v2, this.dirs.freezer, this.dirs.memory, this.dirs.pids].filter((d): d is string => d !== null);
    const plain = cgroups.length === 0;
    return {
      agent: this.agent,
      instance: this.instance,
      pid: this.pid,
      mechanism: plain ? 'proc-walk' : this.plan.mechanism,
      kill: plain ? 'proc-walk' : this.plan.kill,
      memory: plain ? 'rss-sample' : this.plan.memory,
      pids_limit: plain ? 'none' : this.plan.pids,
      cgroups,
      oom_kills: this.oomKills(),
      escaped: [...this.escapedLog],
    };
  }
}
