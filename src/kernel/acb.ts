/**
 * The Agent Control Block: one record per agent process, the kernel's view of it (like an OS PCB).
 * Plain data, so it can be listed, serialised into the report and sent to a dashboard as is.
 */
import type { ProcState } from '../observe/events.js';

export interface Acb {
  agent: string;
  instance: number;
  pid: number;
  state: ProcState;
  /** Task the process is running now. */
  task: string | null;
  /** Attempts this process was given. */
  served: number;
  /** Restarts of this agent slot before this process. */
  restarts: number;
  rss_mb: number;
  cpu: number;
  peak_rss_mb: number;
  quota_mb: number;
  mailbox_depth: number;
  /** Model tokens used by this process, as reported by the model endpoint's responses (llm.chat). */
  tokens: number;
  /** Messages from the process that the kernel rejected (malformed, foreign, forged). */
  rejected_messages: number;
  ready_ms: number | null;
  exit: { code: number | null; signal: string | null; reason: string } | null;
}

/** All ACBs of a run, live and ended, in spawn order. */
export class ProcessTable {
  private readonly rows: Acb[] = [];

  add(acb: Acb): void {
    this.rows.push(acb);
  }

  all(): readonly Acb[] {
    return this.rows;
  }

  live(): Acb[] {
    return this.rows.filter((r) => r.state !== 'exited' && r.state !== 'crashed');
  }
}
