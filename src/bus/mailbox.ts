/**
 * One bounded mailbox: a FIFO of stamped messages plus, for the `block` policy, a FIFO of senders waiting
 * for room. Invariant: senders wait only while the queue is full, so moving the first waiting sender in
 * whenever a message leaves keeps every sender's messages in the order they were sent.
 */

export type MailboxPolicy = 'block' | 'drop_oldest' | 'reject';

export interface Sender {
  agent: string;
  instance: number;
  /** `agent#instance`: the address a reply can be sent to. */
  address: string;
  task: string;
  pid: number;
}

export interface BusMessage {
  /** Kernel-wide arrival number (orders messages across a mailbox and a task queue). */
  id: number;
  from: Sender;
  to: string;
  topic: string | null;
  /** Per sender -> receiver pair, from 1, stamped by the kernel. */
  seq: number;
  payload: unknown;
  bytes: number;
  /** performance.now() when the kernel accepted it. */
  sentAt: number;
  /** Accepted while no live process held the receiving slot (restarting or not started yet). */
  held: boolean;
}

export interface BlockedSend {
  msg: BusMessage;
  admit: () => void;
  fail: (err: Error) => void;
}

export class Mailbox {
  readonly queue: BusMessage[] = [];
  readonly blocked: BlockedSend[] = [];

  constructor(
    readonly key: string,
    readonly size: number,
    readonly policy: MailboxPolicy,
  ) {}

  get full(): boolean {
    return this.queue.length >= this.size;
  }

  get depth(): number {
    return this.queue.length;
  }

  /** Take the oldest message and let the first blocked sender in. */
  shift(): BusMessage | undefined {
    const m = this.queue.shift();
    if (m) this.admitBlocked();
    return m;
  }

  admitBlocked(): void {
    while (!this.full && this.blocked.length > 0) {
      const b = this.blocked.shift()!;
      this.queue.push(b.msg);
      b.admit();
    }
  }

  /** Everything still here (queued, then blocked), emptied. */
  drain(): { queued: BusMessage[]; blocked: BlockedSend[] } {
    return { queued: this.queue.splice(0), blocked: this.blocked.splice(0) };
  }
}
