/**
 * What an agent process does with its containment cell (containment/cell.ts), kept out of
 * agent-process.ts: set the limits on the empty cell before the spawn, start through the cell's
 * launcher (the process is in its cgroup before its first instruction: no spawn-then-attach race), and
 * when the process has ended, end everything else of the cell (cgroup.kill, or the /proc walk and env
 * tag for what left the process group or session), read the OOM counter, remove the cell.
 */
import type { AgentSpec } from '../config/agent-spec.js';
import type { EventLog } from '../kernel-api/events.js';
import { RUN_TAG_ENV, type AgentCell, type EscapedProcess, type MemoryMechanism, type PidsMechanism } from './containment/index.js';

const MiB = 2 ** 20;

/** What prepareCell set, and how to start the process. */
export interface CellStart {
  wrapCommand: (file: string, args: string[]) => { file: string; args: string[] };
  extraEnv: Record<string, string>;
  memory: MemoryMechanism;
  pids: PidsMechanism;
  /** The cgroup memory limit (MiB) when a memory cgroup holds it. */
  limitMb: number | undefined;
}

/**
 * Set the cell's memory limit (memory_mb; the cgroup counts page cache too) and pids limit (pids_max)
 * before the process exists. A refused control write is an event `containment.error`, never a throw:
 * the RSS sampler still enforces memory_mb.
 */
export function prepareCell(cell: AgentCell, spec: AgentSpec, events: EventLog): CellStart {
  let memory: MemoryMechanism = 'rss-sample';
  let pids: PidsMechanism = 'none';
  const fail = (what: string, err: unknown): void =>
    events.emit({ type: 'containment.error', agent: spec.name, instance: cell.instance, message: `${what}: ${err instanceof Error ? err.message : String(err)}` });
  try {
    memory = cell.setMemoryLimit(spec.memory_mb * MiB);
  } catch (err) {
    fail('memory limit', err);
  }
  try {
    pids = cell.setPidsLimit(spec.pids_max);
  } catch (err) {
    fail('pids limit', err);
  }
  return {
    wrapCommand: (file, args) => cell.launcher(file, args),
    extraEnv: { [RUN_TAG_ENV]: cell.tag },
    memory,
    pids,
    limitMb: memory === 'rss-sample' ? undefined : spec.memory_mb,
  };
}

/**
 * Record the spawned process as the cell's agent. A Node agent was started through the launcher (already
 * placed); a Python agent keeps its argv0 title only without the launcher's `exec`, so it is attached
 * now, a few microseconds after spawn and before the interpreter has loaded (anything it forks is found
 * by the walk and the run tag anyway). A refused attach is an event, never a throw.
 */
export function placeInCell(cell: AgentCell, pid: number, attach: boolean, events: EventLog): void {
  if (!attach) return cell.adopt(pid);
  try {
    cell.attach(pid);
  } catch (err) {
    cell.adopt(pid);
    events.emit({ type: 'containment.error', agent: cell.agent, instance: cell.instance, message: `attach: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/** What ending the cell found. */
export interface CellEnd {
  /** The kernel OOM-killed a process of the cell (cgroup memory limit). */
  oomKilled: boolean;
  /** Processes found outside the cgroup (or, without one, still alive after the group kill). */
  escaped: EscapedProcess[];
}

/**
 * The agent process has exited: end every other process of its cell (whatever group or session it
 * moved to), read the OOM counter, remove the cell's cgroups. Never throws.
 */
export async function endCell(cell: AgentCell, events: EventLog, deadlineMs = 2000): Promise<CellEnd> {
  let escaped: EscapedProcess[] = [];
  try {
    escaped = (await cell.killAll(deadlineMs)).escaped;
  } catch {
    // killAll never throws by contract; an unexpected error must not stop the exit path
  }
  const oomKilled = cell.oomKilled();
  let failed: string[] = [];
  try {
    failed = await cell.remove(deadlineMs);
  } catch (err) {
    failed = [String(err)];
  }
  for (const e of escaped) events.emit({ type: 'containment.escaped', agent: cell.agent, instance: cell.instance, pid: e.pid, cmd: e.cmd, found_by: e.found_by, killed: e.killed });
  for (const f of failed) events.emit({ type: 'containment.error', agent: cell.agent, instance: cell.instance, message: `remove: ${f}` });
  return { oomKilled, escaped };
}
