/**
 * What happens when a mailbox is full, by its agent.yaml `mailbox.policy`:
 * - `reject`: the send fails at once with E_MAILBOX_FULL;
 * - `drop_oldest`: the oldest queued message is dropped to make room;
 * - `block`: the sender waits until the receiver makes room (at most `maxBlocked` senders per mailbox,
 *   more are rejected: a sender that never awaits could otherwise park unbounded payloads in the kernel).
 */
import type { EventLog } from '../kernel-api/events.js';
import type { AgentCounters } from './accounting.js';
import { BusError } from './addressing.js';
import type { BusMessage, Mailbox } from './mailbox.js';

/** Sends that may wait for room in one `block` mailbox; more are rejected (E_MAILBOX_FULL). */
export const maxBlocked = (size: number): number => Math.max(256, size);

export interface Queued {
  seq: number;
  to: string;
  status: 'queued';
}

/**
 * Apply the box's policy to `msg` arriving at a full mailbox (or one with senders already waiting).
 * `enqueued` runs once the message is in the queue. Rejects with BusError E_MAILBOX_FULL.
 */
export function whenFull(box: Mailbox, msg: BusMessage, counters: AgentCounters, events: EventLog, enqueued: () => void): Promise<Queued> {
  const done: Queued = { seq: msg.seq, to: box.key, status: 'queued' };
  switch (box.policy) {
    case 'reject':
      counters.rejected++;
      events.emit({ type: 'bus.dropped', to: box.key, from: msg.from.address, seq: msg.seq, reason: 'rejected: mailbox full', policy: 'reject' });
      return Promise.reject(new BusError('E_MAILBOX_FULL', `mailbox of ${box.key} is full (${box.size} messages, policy reject)`));
    case 'drop_oldest': {
      const old = box.queue.shift()!;
      counters.dropped++;
      events.emit({ type: 'bus.dropped', to: box.key, from: old.from.address, seq: old.seq, reason: 'dropped oldest: mailbox full', policy: 'drop_oldest' });
      box.queue.push(msg);
      enqueued();
      return Promise.resolve(done);
    }
    case 'block':
      if (box.blocked.length >= maxBlocked(box.size)) {
        counters.rejected++;
        events.emit({ type: 'bus.dropped', to: box.key, from: msg.from.address, seq: msg.seq, reason: `rejected: ${box.blocked.length} senders already waiting`, policy: 'reject' });
        return Promise.reject(new BusError('E_MAILBOX_FULL', `mailbox of ${box.key} is full and ${box.blocked.length} sends already wait for room`));
      }
      events.emit({ type: 'bus.blocked', to: box.key, from: msg.from.address, seq: msg.seq, depth: box.depth });
      return new Promise((resolve, reject) => {
        box.blocked.push({
          msg,
          admit: () => {
            enqueued();
            resolve(done);
          },
          fail: reject,
        });
      });
  }
}
