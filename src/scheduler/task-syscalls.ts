/**
 * Syscalls over the running DAG: `task.spawn` (add a task), `task.cancel` (end tasks the caller added)
 * and `task.wait` (block until tasks end, or until the first of them succeeds with a chosen flag set).
 * Together they let a handler run a search as dynamic tasks: spawn candidates, wait for the first good
 * one, cancel the rest. The kernel decides who may cancel what: only the task that spawned a task.
 * Arguments arrive parsed (kernel-api/syscall-args.ts).
 */
import { errorCode } from '../errors.js';
import type { EventLog } from '../kernel-api/events.js';
import { SyscallError, type SyscallTable } from '../kernel-api/syscalls.js';
import type { Scheduler } from './scheduler.js';
import { isTerminal, type TaskRecord } from './task-graph.js';

export interface TaskSummary {
  id: string;
  state: TaskRecord['state'];
  output: unknown;
  error: TaskRecord['error'];
  failures: Array<{ kind: string; message: string }>;
}

function summary(rec: TaskRecord): TaskSummary {
  return { id: rec.id, state: rec.state, output: rec.output, error: rec.error, failures: rec.failures.map((f) => ({ kind: f.kind, message: f.message })) };
}

export function registerTaskSyscalls(syscalls: SyscallTable, scheduler: Scheduler, events: EventLog): void {
  syscalls.register('task.spawn', (caller, t) => {
    try {
      const rec = scheduler.addDynamic(t, caller.taskId);
      // Acknowledged once the task is in the journal: a spawner told "added" never loses its task.
      const durable = scheduler.factsDurable();
      return durable ? durable.then(() => ({ id: rec.id, state: rec.state })) : { id: rec.id, state: rec.state };
    } catch (err) {
      const code = errorCode(err);
      events.emit({ type: 'task.spawn_rejected', task: t.id, by: caller.taskId, code, message: (err as Error).message });
      throw new SyscallError(code, (err as Error).message, { cause: err });
    }
  });

  syscalls.register('task.cancel', (caller, a) => {
    const cancelled: string[] = [];
    for (const id of a.tasks) {
      const rec = scheduler.graph.get(id);
      if (!rec) throw new SyscallError('E_UNKNOWN_TASK', `ctx.cancel: no task '${id}'`);
      if (rec.spawnedBy !== caller.taskId) throw new SyscallError('E_PERMISSION', `ctx.cancel: task '${id}' was not added by '${caller.taskId}'; a task may only cancel tasks it spawned`);
    }
    const reason = a.reason ?? `cancelled by ${caller.taskId}`;
    for (const id of a.tasks) {
      if (scheduler.cancel(id, reason)) {
        cancelled.push(id);
        events.emit({ type: 'task.cancelled', task: id, by: caller.taskId, reason });
      }
    }
    return { cancelled };
  });

  syscalls.register('task.wait', (_caller, { tasks, until, field }) => {
    const recs = tasks.map((id) => {
      const rec = scheduler.graph.get(id);
      if (!rec) throw new SyscallError('E_UNKNOWN_TASK', `ctx.wait: no task '${id}'`);
      return rec;
    });
    const wins = (r: TaskRecord): boolean =>
      r.state === 'succeeded' &&
      !r.committing && (field === undefined || (typeof r.output === 'object' && r.output !== null && (r.output as Record<string, unknown>)[field] === true));
    const answer = (winner: TaskRecord | undefined) => ({ winner: winner?.id ?? null, tasks: recs.map(summary) });
    return new Promise((resolve) => {
      let resume: (() => void) | undefined = undefined;
      const check = (): boolean => {
        const winner = until === 'first' ? recs.find(wins) : undefined;
        if (winner || recs.every((r) => isTerminal(r.state) && !r.committing)) {
          resume?.();
          resolve(answer(winner));
          return true;
        }
        return false;
      };
      if (check()) return;
      // While it waits, the caller's global slot goes to the tasks it waits for.
      resume = scheduler.park();
      // Resolved by the scheduler's terminal hook; if the caller dies first the reply is simply dropped.
      const off = scheduler.onTaskTerminal(() => {
        if (check()) off();
      });
    });
  });
}
