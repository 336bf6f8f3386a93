/**
 * Containment of one run: a run cgroup nested under the kernel's OWN cgroup in each hierarchy the plan
 * uses (never beside it at the top of a hierarchy we were not placed at), and per agent process a cell
 * (child cgroup) inside it. Names carry the kernel's pid and start time
 * (`agentos-<runId>.k<pid>.s<start>`), so reapStale() can tell a dead kernel's cgroups from a live one's.
 *
 * Integration (spawn path): `const c = Containment.create({ runId, runtimeDir })` once per run; per
 * agent process `const cell = c.cell(agent, n)`, spawn with `env: { ...env, ...cell.tagEnv }` (or through
 * `cell.launcher(file, args)`), then at once `cell.attach(child.pid)`, `cell.setMemoryLimit(quota)`,
 * `cell.setPidsLimit(n)`; on the attempt's end `cell.killAll()`, on exit `cell.oomKilled()` to classify
 * a SIGKILL, then `cell.remove()`; at the run's end `c.cleanup()` → report.json `containment`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentOSError } from '../../errors.js';
import { cmdline, isLive, rmdirRetry, startTime, writeControl } from './cgfs.js';
import { AgentCell, type CellDirs } from './cell.js';
import { detect } from './detect.js';
import { killTree } from './kill-tree.js';
import { runTag, taggedPids } from './proc-walk.js';
import { RUN_TAG_ENV, RunIdSchema, type Capabilities, type CgroupRecord, type ContainmentReport, type EscapedProcess } from './types.js';

/** Options of Containment.create. */
export interface ContainmentOptions {
  /** The run id (A-Z a-z 0-9 _ -, up to 64): part of every cgroup name and of the env tag. */
  runId: string;
  /** What the machine allows (default: detect() now). */
  caps?: Capabilities;
  /** Where to record the cgroups made (`<runtimeDir>/cgroups/<runId>.json`) for reapStale() after a crash. */
  runtimeDir?: string;
  /** `proc-walk` ignores cgroups (the fallback, for tests and for users who opt out). Default `auto`. */
  mode?: 'auto' | 'proc-walk';
}

const PROC_WALK_PLAN: Capabilities['plan'] = { mechanism: 'proc-walk', kill: 'proc-walk', memory: 'rss-sample', pids: 'none' };
const NO_DIRS: CellDirs = { v2: null, memory: null, pids: null, freezer: null };

/** The agent name as a cgroup name part. */
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || '_';

export class Containment {
  private readonly cells: AgentCell[] = [];
  private readonly errors: string[] = [];
  private readonly runEscaped: EscapedProcess[] = [];
  private seq = 0;

  private constructor(
    readonly runId: string,
    readonly caps: Capabilities,
    /** The plan actually in force (proc-walk when cgroup setup failed: see report().errors). */
    readonly plan: Capabilities['plan'],
    /** The run's cgroup per hierarchy (all null for proc-walk). */
    readonly runDirs: CellDirs,
    /** v2 only: the leaf the kernel moved itself into so controllers could be enabled below its cgroup. */
    readonly kernelLeaf: string | null,
    private readonly recordFile: string | null,
    setupErrors: string[],
  ) {
    this.errors.push(...setupErrors);
  }

  /**
   * Make the run's cgroups. Never leaves a half-made set: if any step is refused, what was made is
   * removed and the run falls back to the /proc walk, the reason in report().errors. Throws
   * AgentOSError `E_CONTAINMENT` only for a malformed runId.
   */
  static create(opts: ContainmentOptions): Containment {
    const id = RunIdSchema.safeParse(opts.runId);
    if (!id.success) throw new AgentOSError('E_CONTAINMENT', `containment: bad run id '${opts.runId}': ${id.error.issues[0]?.message ?? 'invalid'}`);
    const caps = opts.caps ?? detect();
    const plan = opts.mode === 'proc-walk' ? PROC_WALK_PLAN : caps.plan;
    if (plan.mechanism === 'proc-walk') return new Containment(opts.runId, caps, PROC_WALK_PLAN, NO_DIRS, null, null, []);
    const suffix = `.k${process.pid}.s${startTime(process.pid) ?? '0'}`;
    const name = `agentos-${opts.runId}${suffix}`;
    const made: string[] = [];
    const mk = (parent: string | undefined): string | null => {
      if (!parent) return null;
      const d = join(parent, name);
      mkdirSync(d);
      made.push(d);
      return d;
    };
    let leaf: string | null = null;
    try {
      const useV2 = plan.kill.startsWith('cgroup-v2') || plan.memory === 'cgroup-v2' || plan.pids === 'cgroup-v2';
      const controllers = [plan.memory === 'cgroup-v2' ? 'memory' : '', plan.pids === 'cgroup-v2' ? 'pids' : ''].filter(Boolean);
      const v2 = caps.v2;
      if (useV2 && v2 && controllers.some((c) => !v2.enabled.includes(c))) {
        if (!v2.own_is_root) {
          // v2 "no internal processes": our cgroup may hand controllers down only once no process is in it.
          leaf = join(v2.own_dir, `agentos.kernel${suffix}`);
          mkdirSync(leaf, { recursive: true });
          writeControl(join(leaf, 'cgroup.procs'), String(process.pid));
        }
        writeControl(join(v2.own_dir, 'cgroup.subtree_control'), controllers.map((c) => `+${c}`).join(' '));
      }
      const dirs: CellDirs = {
        v2: useV2 ? mk(v2?.own_dir) : null,
        memory: plan.memory === 'cgroup-v1' ? mk(caps.v1.memory?.own_dir) : null,
        pids: plan.pids === 'cgroup-v1' ? mk(caps.v1.pids?.own_dir) : null,
        freezer: plan.kill === 'cgroup-v1-freeze' ? mk(caps.v1.freezer?.own_dir) : null,
      };
      if (dirs.v2 && controllers.length > 0) writeControl(join(dirs.v2, 'cgroup.subtree_control'), controllers.map((c) => `+${c}`).join(' '));
      let recordFile: string | null = null;
      if (opts.runtimeDir) {
        mkdirSync(join(opts.runtimeDir, 'cgroups'), { recursive: true, mode: 0o700 });
        recordFile = join(opts.runtimeDir, 'cgroups', `${opts.runId}.json`);
        const rec: CgroupRecord = { run_id: opts.runId, kernel_pid: process.pid, kernel_start: startTime(process.pid) ?? '0', dirs: [...made, ...(leaf ? [leaf] : [])] };
        writeFileSync(recordFile, JSON.stringify(rec) + '\n', { mode: 0o600 });
      }
      return new Containment(opts.runId, caps, plan, dirs, leaf, recordFile, []);
    } catch (err) {
      for (const d of made.reverse()) void rmdirRetry(d, 0);
      const msg = err instanceof Error ? err.message : String(err);
      return new Containment(opts.runId, caps, PROC_WALK_PLAN, NO_DIRS, leaf, null, [`cgroup setup failed, falling back to proc-walk: ${msg}`]);
    }
  }

  /** The AGENTOS_RUN_TAG value for an agent process (put `{ [RUN_TAG_ENV]: tag }` in its env). */
  tag(agent: string, instance: number): string {
    return runTag(this.runId, agent, instance);
  }

  /** The environment entries to add to an agent process's env: its run tag. */
  tagEnv(agent: string, instance: number): Record<string, string> {
    return { [RUN_TAG_ENV]: this.tag(agent, instance) };
  }

  /**
   * A cell for one agent process (a child cgroup in each run cgroup). Never throws: if the cgroup cannot
   * be made the cell works by /proc walk and the reason is in report().errors.
   */
  cell(agent: string, instance: number): AgentCell {
    const seq = ++this.seq;
    const name = `${safe(agent)}.${instance}.${seq}`;
    // One tag per process, never per slot: a replacement in the same slot (agent#n) must not carry the
    // tag its predecessor's cell sweeps for, or that sweep (killAll's /proc walk, up to its deadline)
    // SIGKILLs the replacement as "escaped" while it starts.
    const tag = `${this.tag(agent, instance)}.${seq}`;
    const made: string[] = [];
    const mk = (parent: string | null): string | null => {
      if (!parent) return null;
      const d = join(parent, name);
      mkdirSync(d);
      made.push(d);
      return d;
    };
    let cell: AgentCell;
    try {
      const r = this.runDirs;
      cell = new AgentCell(agent, instance, tag, { v2: mk(r.v2), memory: mk(r.memory), pids: mk(r.pids), freezer: mk(r.freezer) }, this.plan);
    } catch (err) {
      for (const d of made.reverse()) void rmdirRetry(d, 0);
      this.errors.push(`cell ${agent}#${instance}: ${err instanceof Error ? err.message : String(err)}; using proc-walk`);
      cell = new AgentCell(agent, instance, tag, NO_DIRS, PROC_WALK_PLAN);
    }
    this.cells.push(cell);
    return cell;
  }

  /** End every process of every cell, then any process still carrying the run's tag. */
  async killAll(deadlineMs = 2000): Promise<void> {
    for (const c of this.cells) await c.killAll(deadlineMs);
    for (const p of taggedPids(`${this.runId}/`, true)) {
      if (!isLive(p)) continue;
      const cmd = cmdline(p);
      const r = await killTree(p, { tag: `${this.runId}/`, tagPrefix: true, deadlineMs });
      this.runEscaped.push({ pid: p, cmd, found_by: 'tag', killed: !r.remaining.includes(p) });
    }
  }

  /**
   * End of run: kill everything, remove every cell and the run cgroups (bounded retries), drop the
   * record file, and return the report. The kernel's own leaf (v2) stays while the kernel lives; the
   * next reapStale() removes it after the kernel exits. Never throws.
   */
  async cleanup(deadlineMs = 2000): Promise<ContainmentReport> {
    await this.killAll(deadlineMs);
    for (const c of this.cells) this.errors.push(...(await c.remove(deadlineMs)));
    for (const d of [this.runDirs.v2, this.runDirs.freezer, this.runDirs.memory, this.runDirs.pids]) {
      if (!d) continue;
      const err = await rmdirRetry(d, deadlineMs);
      if (err) this.errors.push(`${d}: ${err}`);
    }
    if (this.recordFile) rmSync(this.recordFile, { force: true });
    return this.report();
  }

  /** Which mechanism held each agent process, and every process that escaped it. */
  report(): ContainmentReport {
    const agents = this.cells.map((c) => c.report());
    return {
      run_id: this.runId,
      layout: this.caps.layout,
      mechanism: this.plan.mechanism,
      agents,
      escaped: [...agents.flatMap((a) => a.escaped), ...this.runEscaped],
      errors: [...this.errors],
    };
  }
}
