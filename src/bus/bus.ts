/**
 * The message bus. It lives in the kernel: agents reach it through syscalls (ctx.send, ctx.receive, ...),
 * and the kernel stamps every message's sender (from the calling process's ACB, never from the agent's
 * arguments) and a per sender -> receiver sequence number.
 *
 * Mailboxes belong to agent *slots* (`agent#instance`), not to processes: a message for a slot whose
 * process is restarting waits in the slot's mailbox and is delivered to the replacement. Messages
 * addressed to a task wait in the task's own queue and follow the task to whichever process runs it
 * (a retry included). What is never received ends in the dead-letter list of the report.
 * By concept: addressing.ts (who), backpressure.ts (full mailboxes), delivery.ts (waiting receivers),
 * accounting.ts (counters, dead letters, the report); this file routes between them.
 */
import { isLive, setMailboxDepth, type Acb } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import { BusAccounting, type BusReport } from './accounting.js';
import { BusError, instanceKey, keyAddress, resolveAddress, taskKey, type Address, type Directory } from './addressing.js';
import { whenFull } from './backpressure.js';
import { Receivers, type Delivered } from './delivery.js';
import { Mailbox, type BusMessage, type Sender } from './mailbox.js';

export { BusError, instanceKey, type Address, type MailboxSpec } from './addressing.js';
export type { BusReport, DeadLetter } from './accounting.js';
export type { Delivered } from './delivery.js';

/** What the bus needs to know about the rest of the kernel (kept narrow so the bus tests stand alone). */
export interface BusHost extends Directory {
  events: EventLog;
  /** ACBs of the processes alive now. */
  live(): readonly Acb[];
}

export class MessageBus {
  private readonly boxes = new Map<string, Mailbox>();
  private readonly receivers = new Receivers();
  private readonly seqs = new Map<string, number>();
  private readonly topics = new Map<string, Set<string>>();
  private readonly acct: BusAccounting;
  private nextId = 0;
  private closed = false;
  private readonly unsubscribe: () => void;
  /** The newest process of each slot (the bus looks these up per message; the process table grows). */
  private readonly slots = new Map<string, Acb>();

  constructor(private readonly host: BusHost) {
    this.acct = new BusAccounting(host.events);
    for (const a of host.live()) this.noteProcess(a);
    // Only slot-level facts matter here: a replacement process takes over its slot (and its mailbox depth),
    // and an agent whose circuit opened will never read its mail again.
    this.unsubscribe = host.events.on((e) => {
      if (e.type === 'process.ready') {
        const acb = host.live().find((a) => a.pid === e.pid);
        if (acb) this.noteProcess(acb);
        this.mirrorDepth(instanceKey(e.agent, e.instance));
      } else if (e.type === 'agent.circuit_open') this.deadLetterAgent(e.agent, 'agent stopped: circuit open');
    });
  }

  private noteProcess(acb: Acb): void {
    const key = instanceKey(acb.agent, acb.instance);
    const cur = this.slots.get(key);
    // a slot's processes start one after another: the higher restart count is the newer one
    if (!cur || cur.restarts <= acb.restarts || !isLive(cur)) this.slots.set(key, acb);
  }

  /** `agent#N` is an instance, a known agent name is that agent, anything else must be a task id. */
  resolve(to: string | { agent?: string; instance?: number; task?: string }): Address {
    return resolveAddress(this.host, to);
  }

  // ---- sending --------------------------------------------------------------------------------

  /**
   * Accept one message from `from`. Resolves once it is in the receiver's mailbox: at once, or, under the
   * `block` policy with a full mailbox, when the receiver has made room (backpressure). Rejects with
   * E_MAILBOX_FULL under `reject`.
   */
  send(from: Sender, to: Address, payload: unknown, bytes: number, topic: string | null = null): Promise<{ seq: number; to: string; status: 'queued' | 'dead_letter' }> {
    this.acct.sent(from.agent, bytes);
    let box: Mailbox;
    if (to.kind === 'task') {
      const t = this.host.task(to.task)!;
      if (t.state === 'succeeded' || t.state === 'failed' || t.state === 'skipped' || this.closed) {
        const seq = this.nextSeq(from.address, taskKey(to.task));
        const msg = this.stamp(from, taskKey(to.task), seq, payload, bytes, topic, false);
        this.deadLetter(msg, `task ${to.task} is ${t.state}`);
        return Promise.resolve({ seq, to: msg.to, status: 'dead_letter' });
      }
      box = this.box(taskKey(to.task), t.agent);
    } else {
      const key = to.kind === 'instance' ? instanceKey(to.agent, to.instance) : this.pickInstance(to.agent);
      box = this.box(key);
    }
    const seq = this.nextSeq(from.address, box.key);
    const msg = this.stamp(from, box.key, seq, payload, bytes, topic, to.kind !== 'task' && !this.serving(box.key));
    if (this.closed) {
      this.deadLetter(msg, 'the run is ending');
      return Promise.resolve({ seq, to: msg.to, status: 'dead_letter' });
    }
    if (msg.held) this.acct.heldCount++;
    if (!box.full && box.blocked.length === 0) {
      box.queue.push(msg);
      this.afterEnqueue(box);
      return Promise.resolve({ seq, to: box.key, status: 'queued' });
    }
    return whenFull(box, msg, this.acct.count(this.agentOf(box.key)), this.host.events, () => this.afterEnqueue(box));
  }

  /** Send to every subscriber of a topic (not the sender's own slot). */
  async publish(from: Sender, topic: string, payload: unknown, bytes: number): Promise<{ delivered_to: string[] }> {
    this.acct.topic(topic);
    const subs = [...(this.topics.get(topic) ?? [])].filter((k) => k !== from.address);
    const results = await Promise.allSettled(subs.map((k) => this.send(from, keyAddress(k), payload, bytes, topic)));
    return { delivered_to: subs.filter((_, i) => results[i]!.status === 'fulfilled') };
  }

  /** Send to every slot that has a live process now (not the sender's own). */
  async broadcast(from: Sender, payload: unknown, bytes: number): Promise<{ delivered_to: string[] }> {
    const keys = [...this.slots].filter(([k, a]) => isLive(a) && k !== from.address).map(([k]) => k);
    const results = await Promise.allSettled(keys.map((k) => this.send(from, keyAddress(k), payload, bytes, '*')));
    return { delivered_to: keys.filter((_, i) => results[i]!.status === 'fulfilled') };
  }

  subscribe(slot: string, topic: string): void {
    (this.topics.get(topic) ?? this.topics.set(topic, new Set()).get(topic)!).add(slot);
  }

  unsubscribe_(slot: string, topic: string): void {
    this.topics.get(topic)?.delete(slot);
  }

  // ---- receiving ------------------------------------------------------------------------------

  /**
   * The next message for the calling process: from its slot's mailbox or its task's queue, oldest first.
   * Waits up to `timeoutMs`; resolves null when nothing came.
   */
  receive(acb: Acb, taskId: string, timeoutMs: number): Promise<Delivered | null> {
    this.noteProcess(acb);
    const now = this.take(acb, taskId);
    if (now || timeoutMs <= 0 || this.closed) return Promise.resolve(now ?? null);
    return this.receivers.wait(instanceKey(acb.agent, acb.instance), acb, taskId, timeoutMs);
  }

  /**
   * Up to `max` messages in one call: waits (up to `timeoutMs`) for the first, then takes whatever else is
   * already queued. Saves a round trip per message for a consumer that reads in bulk; [] on timeout.
   */
  async receiveMany(acb: Acb, taskId: string, timeoutMs: number, max: number): Promise<Delivered[]> {
    const first = await this.receive(acb, taskId, timeoutMs);
    if (!first) return [];
    const out = [first];
    while (out.length < max) {
      const m = this.take(acb, taskId);
      if (!m) break;
      out.push(m);
    }
    return out;
  }

  /** A process ended: its waiting receives are void (they took nothing; the slot's mail stays). */
  processEnded(acb: Acb): void {
    this.receivers.voidProcess(instanceKey(acb.agent, acb.instance), acb);
  }

  /** Depth of a slot's mailbox. */
  depth(key: string): number {
    return this.boxes.get(key)?.depth ?? 0;
  }

  /** The run is ending: whatever was not received becomes a dead letter; waiting receivers get null. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.receivers.closeAll();
    for (const box of this.boxes.values()) this.deadLetterBox(box, 'not received before the run ended');
  }

  report(): BusReport {
    return this.acct.report();
  }

  // ---- internals ------------------------------------------------------------------------------

  private stamp(from: Sender, to: string, seq: number, payload: unknown, bytes: number, topic: string | null, held: boolean): BusMessage {
    return { id: ++this.nextId, from, to, topic, seq, payload, bytes, sentAt: performance.now(), held };
  }

  private nextSeq(fromKey: string, toKey: string): number {
    const k = `${fromKey}>${toKey}`;
    const n = (this.seqs.get(k) ?? 0) + 1;
    this.seqs.set(k, n);
    return n;
  }

  private box(key: string, taskAgent?: string): Mailbox {
    let b = this.boxes.get(key);
    if (!b) {
      const spec = this.host.agent(taskAgent ?? this.agentOf(key))?.mailbox ?? { size: 64, policy: 'block' as const };
      b = new Mailbox(key, spec.size, spec.policy);
      this.boxes.set(key, b);
    }
    return b;
  }

  private agentOf(key: string): string {
    return key.startsWith('task:') ? (this.host.task(key.slice(5))?.agent ?? key) : key.slice(0, key.lastIndexOf('#'));
  }

  /** For an agent address: the instance whose mailbox is shortest (lowest instance on a tie). */
  private pickInstance(agent: string): string {
    const n = this.host.agent(agent)!.instances;
    let best = instanceKey(agent, 1);
    let bestDepth = this.depth(best);
    for (let i = 2; i <= n && bestDepth > 0; i++) {
      const k = instanceKey(agent, i);
      const d = this.depth(k);
      if (d < bestDepth) {
        best = k;
        bestDepth = d;
      }
    }
    return best;
  }

  private liveAcb(key: string): Acb | undefined {
    if (key.startsWith('task:')) {
      const task = key.slice(5);
      for (const a of this.slots.values()) if (a.task === task && isLive(a)) return a;
      return undefined;
    }
    const a = this.slots.get(key);
    return a && isLive(a) ? a : undefined;
  }

  /** A process of this slot is up and able to receive (not starting, stopping or dead). */
  private serving(key: string): boolean {
    const a = this.liveAcb(key);
    return a !== undefined && (a.state === 'idle' || a.state === 'busy');
  }

  private mirrorDepth(key: string): void {
    const box = this.boxes.get(key);
    const acb = this.liveAcb(key);
    if (!box || !acb) return;
    if (!key.startsWith('task:')) setMailboxDepth(acb, box.depth);
    this.acct.depth(acb.agent, box.depth);
  }

  private afterEnqueue(box: Mailbox): void {
    this.mirrorDepth(box.key);
    // Hand the message to a receiver already waiting for it, if any.
    const acb = this.liveAcb(box.key);
    if (acb) this.receivers.wake(instanceKey(acb.agent, acb.instance), (a, t) => this.take(a, t));
  }

  private take(acb: Acb, taskId: string): Delivered | null {
    const slot = this.boxes.get(instanceKey(acb.agent, acb.instance));
    const tq = this.boxes.get(taskKey(taskId));
    const a = slot?.queue[0];
    const b = tq?.queue[0];
    let from: Mailbox | undefined;
    if (a && (!b || a.id < b.id)) from = slot;
    else if (b) from = tq;
    if (!from) return null;
    const m = from.shift()!;
    this.mirrorDepth(from.key);
    if (slot && from === slot) setMailboxDepth(acb, slot.depth);
    const latency_ms = this.acct.delivered(acb.agent, m);
    return { from: m.from, to: m.to, topic: m.topic, seq: m.seq, payload: m.payload, latency_ms };
  }

  private deadLetterAgent(agent: string, reason: string): void {
    for (const box of this.boxes.values()) if (this.agentOf(box.key) === agent) this.deadLetterBox(box, reason);
  }

  private deadLetterBox(box: Mailbox, reason: string): void {
    const { queued, blocked } = box.drain();
    for (const m of queued) this.deadLetter(m, reason);
    for (const b of blocked) {
      this.deadLetter(b.msg, reason);
      b.fail(new BusError('E_DEAD_LETTER', `message to ${box.key} not delivered: ${reason}`));
    }
    this.mirrorDepth(box.key);
  }

  private deadLetter(m: BusMessage, reason: string): void {
    this.acct.deadLetter(this.agentOf(m.to), m, reason);
  }
}
