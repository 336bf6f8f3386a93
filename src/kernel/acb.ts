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
  /** Messages waiting in this instance's bus mailbox. */
  mailbox_depth: number;
  /** Tokens charged to this process (context handed to it; outputs when its agent has a token_budget). */
  tokens_used: number;
  /** KV-cache pages its sequences reference, and their bytes charged pro rata (shared pages split). */
  kv_pages: number;
  kv_bytes: number;
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
