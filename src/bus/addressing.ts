/**
 * Bus addressing: who a message can be for. `agent#N` is an instance (its slot's mailbox), a known agent
 * name is that agent (the instance with the shortest mailbox), anything else must be a task id (the
 * task's own queue, which follows the task to whichever process runs it).
 */
import { AgentOSError, type ErrorCode } from '../errors.js';
import type { TaskState } from '../kernel-api/events.js';
import type { MailboxPolicy } from './mailbox.js';

export type Address = { kind: 'instance'; agent: string; instance: number } | { kind: 'agent'; agent: string } | { kind: 'task'; task: string };

export interface MailboxSpec {
  size: number;
  policy: MailboxPolicy;
}

/** What addressing needs to know: agents (mailbox settings, instance count) and tasks. */
export interface Directory {
  /** Mailbox settings and instance count of an agent; undefined for an unknown agent. */
  agent(name: string): { instances: number; mailbox: MailboxSpec } | undefined;
  /** State and agent of a task; undefined for an unknown task. */
  task(id: string): { state: TaskState; agent: string } | undefined;
}

export type BusErrorCode = Extract<ErrorCode, 'E_NO_RECIPIENT' | 'E_MAILBOX_FULL' | 'E_TOO_LARGE' | 'E_DEAD_LETTER' | 'E_SCHEMA'>;

export class BusError extends AgentOSError {
  declare readonly code: BusErrorCode;
  constructor(code: BusErrorCode, message: string) {
    super(code, message);
    this.name = 'BusError';
  }
}

export function instanceKey(agent: string, instance: number): string {
  return `${agent}#${instance}`;
}

export const taskKey = (task: string): string => `task:${task}`;

/** The instance address of a slot key (`agent#N`). */
export function keyAddress(key: string): Address {
  const i = key.lastIndexOf('#');
  return { kind: 'instance', agent: key.slice(0, i), instance: Number(key.slice(i + 1)) };
}

/** Resolve what a handler wrote as `to`. Throws BusError E_NO_RECIPIENT for nobody. */
export function resolveAddress(dir: Directory, to: string | { agent?: string; instance?: number; task?: string }): Address {
  if (typeof to === 'object') {
    if (to.task !== undefined) return checkTask(dir, to.task);
    if (to.agent !== undefined && to.instance !== undefined) return checkInstance(dir, to.agent, to.instance);
    if (to.agent !== undefined) return checkAgent(dir, to.agent);
    throw new BusError('E_NO_RECIPIENT', 'address needs task, agent or agent+instance');
  }
  const hash = to.lastIndexOf('#');
  if (hash > 0 && /^\d+$/.test(to.slice(hash + 1))) return checkInstance(dir, to.slice(0, hash), Number(to.slice(hash + 1)));
  if (dir.agent(to)) return { kind: 'agent', agent: to };
  if (dir.task(to)) return { kind: 'task', task: to };
  throw new BusError('E_NO_RECIPIENT', `no agent, agent instance or task named '${to}'`);
}

function checkInstance(dir: Directory, agent: string, instance: number): Address {
  const a = dir.agent(agent);
  if (!a) throw new BusError('E_NO_RECIPIENT', `no agent '${agent}'`);
  if (!Number.isInteger(instance) || instance < 1 || instance > a.instances) throw new BusError('E_NO_RECIPIENT', `agent '${agent}' has instances 1..${a.instances}, not ${instance}`);
  return { kind: 'instance', agent, instance };
}

function checkAgent(dir: Directory, agent: string): Address {
  if (!dir.agent(agent)) throw new BusError('E_NO_RECIPIENT', `no agent '${agent}'`);
  return { kind: 'agent', agent };
}

function checkTask(dir: Directory, task: string): Address {
  if (!dir.task(task)) throw new BusError('E_NO_RECIPIENT', `no task '${task}'`);
  return { kind: 'task', task };
}
