/**
 * Starting one agent process: `node --max-old-space-size=<memory_mb> [sandbox flags] worker/host.js`
 * through execa with a JSON IPC channel, in its own process group (`detached`), stdout straight to its
 * log file, stderr piped (the kernel keeps its tail), and the agent's identity in the environment only.
 */
import { execa, execaNode, type ResultPromise } from 'execa';
import type { AgentSpec } from '../config/agent-spec.js';
import { AgentOSError } from '../errors.js';
import { ENV } from '../protocol/messages.js';

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
  /** Extra node flags (the permission model of the agent's sandbox). */
  nodeFlags: string[];
  /** File descriptor the child's stdout is written to. */
  stdoutFd: number;
  /** Containment hook: the command to start instead (its cell's launcher: same pid, placed before it runs), and env to add (the run tag). */
  wrapCommand?: ((file: string, args: string[]) => { file: string; args: string[] }) | undefined;
  extraEnv?: Record<string, string> | undefined;
}

export function spawnAgent(spec: AgentSpec, instance: number, o: SpawnOptions): ResultPromise {
  const title = `agentos-agent ${spec.name}#${instance} run=${o.runId}`;
  const nodeOptions = [`--max-old-space-size=${spec.memory_mb}`, ...o.nodeFlags];
  const options = {
    ipc: true,
    serialization: 'json',
    detached: true, // own process group: one kill reaches the handler's grandchildren too
    cleanup: false, // the kernel and its reaper end agents (execa's cleanup ignores detached anyway)
    reject: false,
    buffer: false,
    stdin: 'ignore',
    // execa passes any fd number through to spawn; its types only admit the literals 3-9 here.
    stdout: o.stdoutFd as unknown as 'ignore',
    stderr: 'pipe',
    env: {
      [ENV.handler]: spec.handlerPath,
      [ENV.agent]: spec.name,
      [ENV.instance]: String(instance),
      [ENV.run]: o.runId,
      ...o.extraEnv,
    },
  } as const;
  if (!o.wrapCommand) return execaNode(o.workerPath, title.split(' '), { ...options, nodeOptions });
  const w = o.wrapCommand(process.execPath, [...nodeOptions, o.workerPath, ...title.split(' ')]);
  return execa(w.file, w.args, options);
}
