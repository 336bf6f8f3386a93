/**
 * Starting one agent process on its own channel (docs/protocol.md): stdio [/dev/null, the log file, a
 * stderr pipe (the kernel keeps its tail), fd 3 = the channel socket], no Node IPC, in its own process
 * group (`detached`), with an allow-listed environment (env.ts) plus the protocol's AGENTOS_* variables.
 *
 * Node agents: `node --max-old-space-size=<memory_mb> [sandbox flags] worker/host.js <title words>`.
 * Python agents: `<python> <package>/sdk/python/agentos_host.py`. Both get the process title
 * `agentos-agent NAME#N run=ID` as argv0 (Python's stdlib cannot retitle a process; Node also sets
 * process.title, which rewrites the whole command line).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AgentSpec } from '../config/agent-spec.js';
import { AgentOSError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { isolatedCommand } from '../platform/isolation.js';
import { isShim, onPath } from '../platform/tools.js';
import { CHANNEL_ENV, PROTOCOL_VERSION } from '../protocol/frames.js';
import { ENV } from '../protocol/messages.js';
import { allowedEnv } from './env.js';

/** An agent process that did not become ready (init failure, exit, time limit). Code E_SPAWN. */
export class SpawnError extends AgentOSError {
  constructor(message: string) {
    super('E_SPAWN', message);
    this.name = 'SpawnError';
  }
}

export interface SpawnOptions {
  runId: string;
  workerPath: string;
  /** Extra node flags (the permission model of the agent's sandbox); ignored for Python agents. */
  nodeFlags: string[];
  /** File descriptor the child's stdout is written to. */
  stdoutFd: number;
  /** The agent -> kernel line limit in bytes (told to the agent so its SDK can refuse a too-big output). */
  maxFrameBytes: number;
  /**
   * Containment hook: the command to start instead (its cell's launcher: the same pid, placed in its
   * cgroups before it runs user code). Node agents only: the launcher's `exec` would drop the argv0 title a
   * Python agent needs, so a Python agent is attached right after spawn instead (docs/containment.md).
   */
  wrapCommand?: ((file: string, args: string[]) => { file: string; args: string[] }) | undefined;
  /** Environment to add (the containment's run tag). */
  extraEnv?: Record<string, string> | undefined;
}

/** The Python agent host inside the package (stdlib only: no pip install). */
export const PYTHON_HOST = join(PACKAGE_ROOT, 'sdk/python/agentos_host.py');

/** Tells the Python SDK host its interpreter (sys.executable), which argv0 = title hides. */
export const PYTHON_EXECUTABLE_ENV = 'AGENTOS_PYTHON_EXECUTABLE';

/** Interpreters already resolved in this kernel, by name (the lookup runs once per name, not per spawn). */
const resolvedPython = new Map<string, string>();

/**
 * The interpreter of a Python agent: agent.yaml `python:`, else $AGENTOS_PYTHON, else python3 on PATH. A
 * pyenv-style shim (a shell script that execs the real interpreter) is resolved once to the interpreter
 * it runs: the shim costs ~80-200 ms per start and its `exec` drops the argv0 process title.
 */
export function pythonOf(spec: AgentSpec): string {
  const name = spec.python ?? process.env.AGENTOS_PYTHON ?? 'python3';
  let real = resolvedPython.get(name);
  if (real === undefined) {
    real = name;
    const found = name.includes('/') ? name : onPath(name);
    if (found && isShim(found)) {
      try {
        const exe = execFileSync(found, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        if (exe.startsWith('/')) real = exe;
      } catch {
        // keep the shim: it still works, only slower and without the title
      }
    }
    resolvedPython.set(name, real);
  }
  return real;
}

/** The process title of one agent instance (what `agentos ps` and `ps` show). */
export function processTitle(spec: AgentSpec, instance: number, runId: string): string {
  return `agentos-agent ${spec.name}#${instance} run=${runId}`;
}

/**
 * Start the process. Never throws for a missing interpreter: the ChildProcess then has no pid and
 * emits 'error' (the caller treats that as an exit before ready).
 */
export function spawnAgent(spec: AgentSpec, instance: number, o: SpawnOptions): ChildProcess {
  const title = processTitle(spec, instance, o.runId);
  const env: Record<string, string> = {
    ...allowedEnv(spec.env),
    [CHANNEL_ENV.fd]: '3',
    [CHANNEL_ENV.protocol]: String(PROTOCOL_VERSION),
    [CHANNEL_ENV.maxFrameBytes]: String(o.maxFrameBytes),
    [ENV.handler]: spec.handlerPath,
    [ENV.agent]: spec.name,
    [ENV.instance]: String(instance),
    [ENV.run]: o.runId,
    ...o.extraEnv,
  };
  const python = spec.runtime === 'python';
  const command = python ? pythonOf(spec) : process.execPath;
  // argv0 is the title, so Python cannot find its own executable: the SDK host sets sys.executable from this.
  if (python) env[PYTHON_EXECUTABLE_ENV] = command.includes('/') ? command : (onPath(command) ?? command);
  const args = python ? [PYTHON_HOST] : [`--max-old-space-size=${spec.memory_mb}`, ...o.nodeFlags, o.workerPath, ...title.split(' ')];
  // isolation: pid — in its own PID namespace (platform/isolation.ts); the cell's launcher wraps that.
  const inner = spec.isolation === 'pid' && !python ? isolatedCommand(command, args) : { file: command, args };
  const w = !python && o.wrapCommand ? o.wrapCommand(inner.file, inner.args) : inner;
  return spawn(w.file, w.args, {
    argv0: title,
    stdio: ['ignore', o.stdoutFd, 'pipe', 'pipe'],
    detached: true, // own process group: one kill reaches the handler's grandchildren too
    env,
    // The agent's working directory is the kernel's (docs/agents.md); nothing else is inherited.
    windowsHide: true,
  });
}
