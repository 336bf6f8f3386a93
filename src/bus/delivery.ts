/**
 * Receivers waiting in ctx.receive, per slot: bounded, each with its own timer, voided when its process
 * ends or the run closes. A waiter is only handed a message while its process still runs the attempt
 * that asked (one that died or moved on must not swallow a message).
 */
import type { Acb } from '../kernel-api/acb.js';
import type { Sender } from './mailbox.js';

/** What ctx.receive() resolves to. */
export interface Delivered {
  from: Sender;
  to: string;
  topic: string | null;
  seq: number;
  payload: unknown;
  /** Milliseconds between the kernel accepting the message and handing it over. */
  latency_ms: number;
}

/** Concurrent ctx.receive calls one slot may have waiting (more resolve null at once). */
export const MAX_WAITERS_PER_SLOT = 64;

export interface Waiter {
  acb: Acb;
  taskId: string;
  resolve: (m: Delivered | null) => void;
  timer: NodeJS.Timeout;
}

export class Receivers {
  private readonly waiters = new Map<string, Waiter[]>();

  /** Wait up to `timeoutMs` for a message for the slot `key`; resolves null on timeout or when full. */
  wait(key: string, acb: Acb, taskId: string, timeoutMs: number): Promise<Delivered | null> {
    return new Promise((resolve) => {
      const w: Waiter = {
        acb,
        taskId,
        resolve,
        timer: setTimeout(() => {
          this.remove(key, w);
          resolve(null);
        }, timeoutMs),
      };
      let list = this.waiters.get(key);
      if (!list) this.waiters.set(key, (list = []));
      if (list.length >= MAX_WAITERS_PER_SLOT) {
        clearTimeout(w.timer);
        resolve(null);
        return;
      }
      list.push(w);
    });
  }

  /** Hand messages to the slot's waiters, oldest first, while `take` finds one for them. */
  wake(key: string, take: (acb: Acb, taskId: string) => Delivered | null): void {
    const list = this.waiters.get(key);
    if (!list) return;
    while (list.length > 0) {
      // Off the list before taking: taking may admit a blocked sender, which re-enters here.
      const w = list.shift()!;
      if (!valid(w)) {
        clearTimeout(w.timer);
        w.resolve(null);
        continue;
      }
      const m = take(w.acb, w.taskId);
      if (!m) {
        list.unshift(w);
        return;
      }
      clearTimeout(w.timer);
      w.resolve(m);
    }
  }

  /** A process ended: its waiting receives are void (they took nothing; the slot's mail stays). */
  voidProcess(key: string, acb: Acb): void {
    const list = this.waiters.get(key);
    if (!list) return;
    for (const w of list.filter((x) => x.acb === acb)) {
      clearTimeout(w.timer);
      this.remove(key, w);
      w.resolve(null);
    }
  }

  /** The run is ending: every waiting receive resolves null. */
  closeAll(): void {
    for (const [key, list] of this.waiters) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.resolve(null);
      }
      this.waiters.delete(key);
    }
  }

  private remove(key: string, w: Waiter): void {
    const list = this.waiters.get(key);
    const i = list?.indexOf(w) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }
}

/** A waiter whose process died or moved on to another attempt must not swallow a message. */
function valid(w: Waiter): boolean {
  return (w.acb.state === 'busy' || w.acb.state === 'idle') && w.acb.task === w.taskId;
}
