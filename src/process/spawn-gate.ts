/**
 * Paces agent spawns: at most `limit` processes load their handler at once, the rest wait their turn.
 * A Node start-up is ~100-150 ms of CPU; 100 of them at once on 2 cores made every start (and every
 * running agent) wait on all the others, so none was ready until nearly all were. With the gate they come
 * up `limit` at a time and running agents keep a share of the CPU. A replacement for a dead process
 * (`urgent`) goes to the head of the line: a retry must not wait behind a start-up wave.
 */
import { Deque } from '../lib/deque.js';

export class SpawnGate {
  private active = 0;
  private readonly waiting = new Deque<() => void>();

  /** @param limit spawns in flight at once (>= 1); Infinity: no pacing. */
  constructor(readonly limit: number) {}

  /** Resolves with the function that gives the turn back (call it once the process is ready or failed). */
  acquire(urgent = false): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.active++;
        let done = false;
        resolve(() => {
          if (done) return;
          done = true;
          this.active--;
          this.waiting.shift()?.();
        });
      };
      if (this.active < this.limit) grant();
      else if (urgent) this.waiting.unshift(grant);
      else this.waiting.push(grant);
    });
  }

  /** Spawns waiting for their turn. */
  get queued(): number {
    return this.waiting.length;
  }
}
