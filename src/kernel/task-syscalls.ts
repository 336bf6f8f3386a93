/**
 * Syscalls over the running DAG besides `task.spawn`: `task.cancel` (end tasks the caller added) and
 * `task.wait` (block until tasks end, or until the first of them succeeds with a chosen flag set).
 * Together they let a handler run a search as dynamic tasks: spawn candidates, wait for the first good
 * one, cancel the rest. The kernel decides who may cancel what: only the task that spawned a task.
 */
import { z } from 'zod';
import { taskIdSchema } from '../config/plan.js';
import { isTerminal, type TaskRecord } from '../scheduler/task-graph.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { EventLog } from '../observe/events.js';
import { SyscallError, type SyscallTable } from './syscalls.js';

const cancelArgs = z.object({ tasks: z.array(taskIdSchema).min(1).max(10_000), reason: z.string().max(500).optional() }).strict();

const waitArgs = z
  .object({
    tasks: z.array(taskIdSchema).min(1).max(10_000),
    /** `all`: every task terminal. `first`: the first task that succeeded (with `field` true, if given). */
    until: z.enum(['all', 'first']).default('all'),
    /** Top-level boolean field of a task's output that makes it count for `first`. */
    field: z.string().max(100).optional(),
  })
  .strict();

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

function fail(args: z.ZodSafeParseError<unknown>, op: string): never {
  const issue = args.error.issues[0];
  throw new SyscallError('E_SCHEMA', `${op}: ${issue?.path.join('.') || 'args'}: ${issue?.message ?? 'invalid'}`);
}

export function registerTaskSyscalls(syscalls: SyscallTable, scheduler: Scheduler, events: EventLog): void {
  syscalls.register('task.cancel', (caller, raw) => {
    const parsed = cancelArgs.safeParse(raw);
    if (!parsed.success) fail(parsed, 'ctx.cancel');
    const cancelled: string[] = [];
    for (const id of parsed.data.tasks) {
      const rec = scheduler.graph.get(id);
      if (!rec) throw new SyscallError('E_UNKNOWN_TASK', `ctx.cancel: no task '${id}'`);
      if (rec.spawnedBy !== caller.taskId) throw new SyscallError('E_PERMISSION', `ctx.cancel: task '${id}' was not added by '${caller.taskId}'; a task may only cancel tasks it spawned`);
    }
    const reason = parsed.data.reason ?? `cancelled by ${caller.taskId}`;
    for (const id of parsed.data.tasks) {
      if (scheduler.cancel(id, reason)) {
        cancelled.push(id);
        events.emit({ type: 'task.cancelled', task: id, by: caller.taskId, reason });
      }
    }
    return { cancelled };
  });

  syscalls.register('task.wait', (_caller, raw) => {
    const parsed = waitArgs.safeParse(raw);
    if (!parsed.success) fail(parsed, 'ctx.wait');
    const { tasks, until, field } = parsed.data;
    const recs = tasks.map((id) => {
      const rec = scheduler.graph.get(id);
      if (!rec) throw new SyscallError('E_UNKNOWN_TASK', `ctx.wait: no task '${id}'`);
      return rec;
    });
    const wins = (r: TaskRecord): boolean =>
      r.state === 'succeeded' && (field === undefined || (typeof r.output === 'object' && r.output !== null && (r.output as Record<string, unknown>)[field] === true));
    const answer = (winner: TaskRecord | undefined) => ({ winner: winner?.id ?? null, tasks: recs.map(summary) });
    return new Promise((resolve) => {
      let resume: (() => void) | undefined = undefined;
      const check = (): boolean => {
        const winner = until === 'first' ? recs.find(wins) : undefined;
        if (winner || recs.every((r) => isTerminal(r.state))) {
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
