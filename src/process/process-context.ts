/** What an agent process needs from the kernel (agent-pool.ts builds it; onExit per process). */
import type { AgentSpec } from '../config/agent-spec.js';
import type { Acb } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import type { SyscallTable } from '../kernel-api/syscalls.js';
import type { AgentCell } from './containment/index.js';

/** `P` is the process type (AgentProcess: agent-process.ts names it; a type parameter keeps imports acyclic). */
export interface ProcessContextOf<P> {
  runId: string;
  workerPath: string;
  events: EventLog;
  /** Directory for the process's stdout/stderr log; none: discarded. */
  logDir: string | undefined;
  /** Called once the process has ended, with the facts classified. */
  onExit(proc: P): void;
  /** Operations the agent may call (ctx.* in handlers). */
  syscalls: SyscallTable;
  /** Extra node flags for this agent's processes (e.g. the permission model). */
  nodeFlags?: (spec: AgentSpec) => string[];
  /** Called once the process has ended, before onExit: kernel parts free what it held (KV pages...). */
  ended?(acb: Acb): void;
  /** The reaper kills group `pgid` (leader started at `start`, pid-identity.ts) if the kernel dies. */
  track(pgid: number, start: string): void;
  untrack(pgid: number): void;
  /** Containment: a new cell (cgroups or the /proc walk) for this process; none: process group only. */
  cell?(agent: string, instance: number): AgentCell;
}
