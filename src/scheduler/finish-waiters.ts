/** Who waits for tasks to end: one-shot waiters per task (whenFinished) and terminal listeners (task.wait). */
import type { TaskRecord } from './task-graph.js';

export class FinishWaiters {
  private readonly waiters = new Map<string, Array<(rec: TaskRecord) => void>>();
  private readonly listeners = new Set<(rec: TaskRecord) => void>();

  /** Resolves when `wake` is called for the task. */
  wait(id: string): Promise<TaskRecord> {
    return new Promise((resolve) => {
      const list = this.waiters.get(id);
      if (list) list.push(resolve);
      else this.waiters.set(id, [resolve]);
    });
  }

  /** The task reached a final state: resolve its waiters. */
  wake(rec: TaskRecord): void {
    const list = this.waiters.get(rec.id);
    if (!list) return;
    this.waiters.delete(rec.id);
    for (const w of list) w(rec);
  }

  /** Subscribe to every task reaching a final state; returns the unsubscribe function. */
  listen(listener: (rec: TaskRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(rec: TaskRecord): void {
    for (const l of [...this.listeners]) {
      try {
        l(rec);
      } catch {
        // a listener's bug must not stop the scheduler
      }
    }
  }
}
