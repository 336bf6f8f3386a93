/**
 * Kernel side of the reaper (worker/reaper.ts): a detached helper that SIGKILLs every tracked agent
 * process group once the kernel's IPC channel to it closes, so even a SIGKILLed kernel leaves no agent
 * behind, busy-looping ones included.
 */
import { execaNode, type ResultPromise } from 'execa';
import { ENV } from '../protocol/messages.js';

export class Reaper {
  private readonly sub: ResultPromise;
  readonly exited: Promise<void>;

  constructor(workerDir: string, runId: string) {
    this.sub = execaNode(`${workerDir}/reaper.js`, ['agentos-reaper', `run=${runId}`], {
      nodeOptions: ['--max-old-space-size=32'],
      ipc: true,
      serialization: 'json',
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      env: { [ENV.run]: runId },
    });
    this.sub.catch(() => {});
    this.exited = new Promise<void>((resolve) => this.sub.once('exit', () => resolve()));
    // The reaper must not keep the kernel's event loop alive.
    this.sub.unref();
    this.sub.channel?.unref();
  }

  get pid(): number | undefined {
    return this.sub.pid;
  }

  track(pgid: number): void {
    this.post({ type: 'track', pgid });
  }

  untrack(pgid: number): void {
    this.post({ type: 'untrack', pgid });
  }

  /** A run cgroup (containment): if the kernel dies, the reaper ends everything in it (cgroup.kill or SIGKILL each). */
  trackCgroup(dir: string): void {
    this.post({ type: 'track-cgroup', dir });
  }

  /** Closing the channel is the reaper's signal to sweep and exit. */
  async close(): Promise<void> {
    // Hold the event loop until the reaper has really exited (no zombie left behind).
    this.sub.ref();
    if (this.sub.connected) this.sub.disconnect();
    // Bounded: a reaper that does not leave within 2 s of its channel closing is killed.
    const timer = setTimeout(() => this.sub.kill('SIGKILL'), 2_000);
    await this.exited;
    clearTimeout(timer);
  }

  private post(m: { type: 'track' | 'untrack'; pgid: number } | { type: 'track-cgroup'; dir: string }): void {
    if (!this.sub.connected) return;
    try {
      this.sub.send(m);
    } catch {
      // reaper gone: agents still exit on their own disconnect
    }
  }
}
