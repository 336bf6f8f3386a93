/**
 * Shared vocabulary of process containment: which mechanism holds an agent process, what this machine
 * offers (the capability report of detect()), and the report a run ends with.
 */
import { z } from 'zod';

/**
 * Which mechanism held an agent process, as the report names it.
 * - `cgroup-v2`: one v2 cgroup does it all (cgroup.kill, memory.max, pids.max).
 * - `cgroup-v1-memory+v2-kill`: hybrid layout — a v2 cgroup to end the tree at once, a v1 memory cgroup for the limit.
 * - `cgroup-v2-kill`: a v2 cgroup ends the tree; memory is sampled (RSS), not enforced by the kernel.
 * - `cgroup-v1`: v1 cgroups only (freezer or a SIGKILL loop over cgroup.procs; v1 memory limit if writable).
 * - `proc-walk`: no cgroup: descendants found in /proc by parentage and env tag (best effort).
 */
export type Mechanism = 'cgroup-v2' | 'cgroup-v1-memory+v2-kill' | 'cgroup-v2-kill' | 'cgroup-v1' | 'proc-walk';

/** How a whole tree is ended. */
export type KillMechanism = 'cgroup-v2-kill' | 'cgroup-v2-freeze' | 'cgroup-v1-freeze' | 'cgroup-procs' | 'proc-walk';
/** How memory is limited: by the kernel at the byte (cgroup), or by sampling RSS between ticks. */
export type MemoryMechanism = 'cgroup-v2' | 'cgroup-v1' | 'rss-sample';
/** How the number of tasks (fork bombs) is limited. */
export type PidsMechanism = 'cgroup-v2' | 'cgroup-v1' | 'none';

/** What detect() found about the v2 (unified) hierarchy and our own place in it. */
export interface V2Facts {
  /** Where the v2 hierarchy is mounted: `/sys/fs/cgroup` (pure v2) or `/sys/fs/cgroup/unified` (hybrid). */
  mount: string;
  /** Our own cgroup's absolute directory (from /proc/self/cgroup). */
  own_dir: string;
  /** Our own cgroup is the root of the hierarchy (or of our cgroup namespace); the root has no cgroup.kill itself. */
  own_is_root: boolean;
  /** We can create child cgroups under our own and move processes into them (root, or a delegated subtree). */
  writable: boolean;
  /** uid owning our own cgroup's directory (a systemd-delegated subtree is owned by the user). */
  owner_uid: number;
  /** The kernel has `cgroup.kill` (Linux 5.14+). */
  kill: boolean;
  /** The kernel has `cgroup.freeze` (Linux 5.2+). */
  freeze: boolean;
  /** Controllers our own cgroup can hand to children (its cgroup.controllers). */
  available: string[];
  /** Controllers already enabled for children (its cgroup.subtree_control). */
  enabled: string[];
  /** Processes in our own cgroup other than this one: while any remain, v2 forbids enabling controllers below a non-root cgroup. */
  other_procs: number;
}

/** What detect() found about one v1 controller's hierarchy. */
export interface V1Facts {
  controller: 'memory' | 'pids' | 'freezer';
  mount: string;
  own_dir: string;
  writable: boolean;
  owner_uid: number;
  /** memory only: memory.memsw.* exists (swap accounting on). */
  swap_accounting: boolean;
}

/** The capability report: what this machine allows, and what a Containment will therefore use. */
export interface Capabilities {
  /** `v2` pure unified; `hybrid` v2 plus v1 controllers; `v1` legacy only; `none` no cgroup usable or present. */
  layout: 'v2' | 'hybrid' | 'v1' | 'none';
  v2: V2Facts | null;
  v1: { memory: V1Facts | null; pids: V1Facts | null; freezer: V1Facts | null };
  /** /proc/<pid>/task/<tid>/children exists (CONFIG_PROC_CHILDREN); else the walk scans every /proc/<pid>/stat. */
  proc_children: boolean;
  /** The mechanisms a Containment created now would use. */
  plan: { mechanism: Mechanism; kill: KillMechanism; memory: MemoryMechanism; pids: PidsMechanism };
  /** Why a better mechanism is not used, in words with the fix (for `agentos doctor` and the report). */
  notes: string[];
}

/** A process found outside the cgroup that should have held it, or left alive after the kill deadline. */
export interface EscapedProcess {
  pid: number;
  /** The first 200 characters of /proc/<pid>/cmdline, spaces for NULs. */
  cmd: string;
  /** How it was found: by parentage from the agent, or by its AGENTOS_RUN_TAG environment marker. */
  found_by: 'parent' | 'tag';
  /** It was ended (SIGKILL and confirmed gone) before the report was written. */
  killed: boolean;
}

/** Per agent process: what held it and what happened. */
export interface CellReport {
  agent: string;
  instance: number;
  pid: number | null;
  mechanism: Mechanism;
  kill: KillMechanism;
  memory: MemoryMechanism;
  pids_limit: PidsMechanism;
  /** cgroup directories that held it (empty for proc-walk). */
  cgroups: string[];
  /** OOM kills the kernel made inside its cgroup (0 without a memory cgroup). */
  oom_kills: number;
  escaped: EscapedProcess[];
}

/** A run's containment report (report.json `containment`). */
export interface ContainmentReport {
  run_id: string;
  layout: Capabilities['layout'];
  mechanism: Mechanism;
  agents: CellReport[];
  /** Every escaped process of every agent, and run-tagged processes no agent accounted for. */
  escaped: EscapedProcess[];
  /** cgroup directories that could not be removed (with the errno), and other errors met on the way. */
  errors: string[];
}

/** A run id as it may appear in a cgroup name: no dots (the name's field separator), no slashes. */
export const RunIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'run id: 1-64 of A-Z a-z 0-9 _ -');

/** The record a Containment leaves in the runtime directory so reapStale() finds its cgroups after a crash. */
export const CgroupRecordSchema = z.object({
  run_id: RunIdSchema,
  kernel_pid: z.number().int().positive(),
  /** /proc/<pid>/stat starttime (clock ticks since boot): tells a live kernel from a reused pid. */
  kernel_start: z.string().regex(/^\d+$/),
  dirs: z.array(z.string().startsWith('/')),
});
export type CgroupRecord = z.infer<typeof CgroupRecordSchema>;

/** The environment variable that marks every process of a run (see proc-walk.ts for what it is worth). */
export const RUN_TAG_ENV = 'AGENTOS_RUN_TAG';
