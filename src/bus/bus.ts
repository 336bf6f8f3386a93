/**
 * The message bus. It lives in the kernel: agents reach it through syscalls (ctx.send, ctx.receive, ...),
 * and the kernel stamps every message's sender (from the calling process's ACB, never from the agent's
 * arguments) and a per sender -> receiver sequence number.
 *
 * Mailboxes belong to agent *slots* (`agent#instance`), not to processes: a message for a slot whose
 * process is restarting waits in the slot's mailbox and is delivered to the replacement. Messages
 * addressed to a task wait in the task's own queue and follow the task to whichever process runs it
 * (a retry included). What is never received ends in the dead-letter list of the report.
 */
import type { Acb } from '../kernel/acb.js';
import type { EventLog, TaskState } from '../observe/events.js';
import { percentile } from '../observe/metrics.js';
import { Mailbox, type BusMessage, type MailboxPolicy, type Sender } from './mailbox.js';

export interface MailboxSpec {
  size: number;
  policy: MailboxPolicy;
}

/** What the bus needs to know about the rest of the kernel (kept narrow so the bus tests stand alone). */
export interface BusHost {
  events: EventLog;
  /** Mailbox settings and instance count of an agent; undefined for an unknown agent. */
  agent(name: string): { instances: number; mailbox: MailboxSpec } | undefined;
  /** State and agent of a task; undefined for an unknown task. */
  task(id: string): { state: TaskState; agent: string } | undefined;
  /** ACBs of the processes alive now. */
  live(): readonly Acb[];
}

export type Address = { kind: 'instance'; agent: string; instance: number } | { kind: 'agent'; agent: string } | { kind: 'task'; task: string };

export class BusError extends Error {
  constructor(
    readonly code: 'E_NO_RECIPIENT' | 'E_MAILBOX_FULL' | 'E_TOO_LARGE' | 'E_DEAD_LETTER' | 'E_SCHEMA',
    message: string,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

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

export interface DeadLetter {
  from: string;
  from_task: string;
  to: string;
  topic: string | null;
  seq: number;
  bytes: number;
  reason: string;
  /** The payload, cut to 200 characters of JSON. */
  preview: string;
}

interface AgentCounters {
  sent: number;
  sent_bytes: number;
  delivered: number;
  delivered_bytes: number;
  dropped: number;
  rejected: number;
  dead_letters: number;
  max_mailbox_depth: number;
}

export interface BusReport {
  messages_sent: number;
  messages_delivered: number;
  messages_dropped: number;
  messages_rejected: number;
  messages_held: number;
  dead_letter_count: number;
  dead_letters: DeadLetter[];
  latency_ms: { p50: number | null; p95: number | null; max: number | null };
  per_agent: Record<string, AgentCounters>;
  topics: Record<string, number>;
}

interface Waiter {
  acb: Acb;
  taskId: string;
  resolve: (m: Delivered | null) => void;
  timer: NodeJS.Timeout;
}

const MAX_DEAD_LETTERS_KEPT = 1000;
/** Concurrent ctx.receive calls one slot may have waiting (more resolve null at once). */
const MAX_WAITERS_PER_SLOT = 64;
/** Sends that may wait for room in one `block` mailbox; more are rejected (E_MAILBOX_FULL). */
const maxBlocked = (size: number): number => Math.max(256, size);

function isLive(a: Acb): boolean {
  return a.state !== 'exited' && a.state !== 'crashed';
}
const MAX_LATENCIES_KEPT = 200_000;

export function instanceKey(agent: string, instance: number): string {
  return `${agent}#${instance}`;
}

const taskKey = (task: string): string => `task:${task}`;

export class MessageBus {
  private readonly boxes = new Map<string, Mailbox>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly seqs = new Map<string, number>();
  private readonly topics = new Map<string, Set<string>>();
  private readonly published = new Map<string, number>();
  private readonly counters = new Map<string, AgentCounters>();
  private readonly latencies: number[] = [];
  private readonly dead: DeadLetter[] = [];
  private deadCount = 0;
  private heldCount = 0;
  private nextId = 0;
  private closed = false;
  private readonly unsubscribe: () => void;
  /** The newest process of each slot (the bus looks these up per message; the process table grows). */
  private readonly slots = new Map<string, Acb>();

  constructor(private readonly host: BusHost) {
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

  // ---- addressing -----------------------------------------------------------------------------

  /** `agent#N` is an instance, a known agent name is that agent, anything else must be a task id. */
  resolve(to: string | { agent?: string; instance?: number; task?: string }): Address {
    if (typeof to === 'object') {
      if (to.task !== undefined) return this.checkTask(to.task);
      if (to.agent !== undefined && to.instance !== undefined) return this.checkInstance(to.agent, to.instance);
      if (to.agent !== undefined) return this.checkAgent(to.agent);
      throw new BusError('E_NO_RECIPIENT', 'address needs task, agent or agent+instance');
    }
    const hash = to.lastIndexOf('#');
    if (hash > 0 && /^\d+$/.test(to.slice(hash + 1))) return this.checkInstance(to.slice(0, hash), Number(to.slice(hash + 1)));
    if (this.host.agent(to)) return { kind: 'agent', agent: to };
    if (this.host.task(to)) return { kind: 'task', task: to };
    throw new BusError('E_NO_RECIPIENT', `no agent, agent instance or task named '${to}'`);
  }

  private checkInstance(agent: string, instance: number): Address {
    const a = this.host.agent(agent);
    if (!a) throw new BusError('E_NO_RECIPIENT', `no agent '${agent}'`);
    if (!Number.isInteger(instance) || instance < 1 || instance > a.instances) throw new BusError('E_NO_RECIPIENT', `agent '${agent}' has instances 1..${a.instances}, not ${instance}`);
    return { kind: 'instance', agent, instance };
  }

  private checkAgent(agent: string): Address {
    if (!this.host.agent(agent)) throw new BusError('E_NO_RECIPIENT', `no agent '${agent}'`);
    return { kind: 'agent', agent };
  }

  private checkTask(task: string): Address {
    if (!this.host.task(task)) throw new BusError('E_NO_RECIPIENT', `no task '${task}'`);
    return { kind: 'task', task };
  }

  // ---- sending --------------------------------------------------------------------------------

  /**
   * Accept one message from `from`. Resolves once it is in the receiver's mailbox: at once, or, under the
   * `block` policy with a full mailbox, when the receiver has made room (backpressure). Rejects with
   * E_MAILBOX_FULL under `reject`.
   */
  send(from: Sender, to: Address, payload: unknown, bytes: number, topic: string | null = null): Promise<{ seq: number; to: string; status: 'queued' | 'dead_letter' }> {
    const sc = this.count(from.agent);
    sc.sent++;
    sc.sent_bytes += bytes;
    let box: Mailbox;
    if (to.kind === 'task') {
      const t = this.host.task(to.task)!;
      if (t.state === 'succeeded' || t.state === 'failed' || t.state === 'skipped' || this.closed) {
        const seq = this.nextSeq(from.address, taskKey(to.task));
        const msg = this.stamp(from, taskKey(to.task), seq, payload, bytes, topic, false);
        this.deadLetter(msg, `task ${to.task} is ${t.state}`);
        return Promise.resolve({ seq, to: msg.to, status: 'dead_letter' });
      }
      box = this.box(taskKey(to.task), to.task, t.agent);
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
    if (msg.held) this.heldCount++;
    const done = { seq, to: box.key, status: 'queued' as const };
    if (!box.full && box.blocked.length === 0) {
      box.queue.push(msg);
      this.afterEnqueue(box);
      return Promise.resolve(done);
    }
    const rc = this.count(this.agentOf(box.key));
    switch (box.policy) {
      case 'reject':
        rc.rejected++;
        this.host.events.emit({ type: 'bus.dropped', to: box.key, from: from.address, seq, reason: 'rejected: mailbox full', policy: 'reject' });
        return Promise.reject(new BusError('E_MAILBOX_FULL', `mailbox of ${box.key} is full (${box.size} messages, policy reject)`));
      case 'drop_oldest': {
        const old = box.queue.shift()!;
        rc.dropped++;
        this.host.events.emit({ type: 'bus.dropped', to: box.key, from: old.from.address, seq: old.seq, reason: 'dropped oldest: mailbox full', policy: 'drop_oldest' });
        box.queue.push(msg);
        this.afterEnqueue(box);
        return Promise.resolve(done);
      }
      case 'block':
        if (box.blocked.length >= maxBlocked(box.size)) {
          // A sender that never awaits could otherwise park unbounded payloads in the kernel.
          rc.rejected++;
          this.host.events.emit({ type: 'bus.dropped', to: box.key, from: from.address, seq, reason: `rejected: ${box.blocked.length} senders already waiting`, policy: 'reject' });
          return Promise.reject(new BusError('E_MAILBOX_FULL', `mailbox of ${box.key} is full and ${box.blocked.length} sends already wait for room`));
        }
        this.host.events.emit({ type: 'bus.blocked', to: box.key, from: from.address, seq, depth: box.depth });
        return new Promise((resolve, reject) => {
          box.blocked.push({
            msg,
            admit: () => {
              this.afterEnqueue(box);
              resolve(done);
            },
            fail: reject,
          });
        });
    }
  }

  /** Send to every subscriber of a topic (not the sender's own slot). */
  async publish(from: Sender, topic: string, payload: unknown, bytes: number): Promise<{ delivered_to: string[] }> {
    this.published.set(topic, (this.published.get(topic) ?? 0) + 1);
    const subs = [...(this.topics.get(topic) ?? [])].filter((k) => k !== from.address);
    const results = await Promise.allSettled(subs.map((k) => this.send(from, this.keyAddress(k), payload, bytes, topic)));
    return { delivered_to: subs.filter((_, i) => results[i]!.status === 'fulfilled') };
  }

  /** Send to every slot that has a live process now (not the sender's own). */
  async broadcast(from: Sender, payload: unknown, bytes: number): Promise<{ delivered_to: string[] }> {
    const keys = [...this.slots].filter(([k, a]) => isLive(a) && k !== from.address).map(([k]) => k);
    const results = await Promise.allSettled(keys.map((k) => this.send(from, this.keyAddress(k), payload, bytes, '*')));
    return { delivered_to: keys.filter((_, i) => results[i]!.status === 'fulfilled') };
  }

  subscribe(slot: string, topic: string): void {
    let s = this.topics.get(topic);
    if (!s) this.topics.set(topic, (s = new Set()));
    s.add(slot);
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
    const key = instanceKey(acb.agent, acb.instance);
    return new Promise((resolve) => {
      const w: Waiter = {
        acb,
        taskId,
        resolve,
        timer: setTimeout(() => {
          this.removeWaiter(key, w);
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
    const key = instanceKey(acb.agent, acb.instance);
    const list = this.waiters.get(key);
    if (!list) return;
    for (const w of list.filter((x) => x.acb === acb)) {
      clearTimeout(w.timer);
      this.removeWaiter(key, w);
      w.resolve(null);
    }
  }

  /** Depth of a slot's mailbox (tests, ACB). */
  depth(key: string): number {
    return this.boxes.get(key)?.depth ?? 0;
  }

  /** The run is ending: whatever was not received becomes a dead letter; waiting receivers get null. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const [key, list] of this.waiters) {
      for (const w of list) {
        clearTimeout(w.timer);
        w.resolve(null);
      }
      this.waiters.delete(key);
    }
    for (const box of this.boxes.values()) this.deadLetterBox(box, 'not received before the run ended');
  }

  report(): BusReport {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const per: Record<string, AgentCounters> = {};
    let sent = 0;
    let delivered = 0;
    let dropped = 0;
    let rejected = 0;
    for (const [agent, c] of this.counters) {
      per[agent] = { ...c };
      sent += c.sent;
      delivered += c.delivered;
      dropped += c.dropped;
      rejected += c.rejected;
    }
    return {
      messages_sent: sent,
      messages_delivered: delivered,
      messages_dropped: dropped,
      messages_rejected: rejected,
      messages_held: this.heldCount,
      dead_letter_count: this.deadCount,
      dead_letters: [...this.dead],
      latency_ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted[sorted.length - 1] ?? null) },
      per_agent: per,
      topics: Object.fromEntries(this.published),
    };
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

  private box(key: string, _task?: string, taskAgent?: string): Mailbox {
    let b = this.boxes.get(key);
    if (!b) {
      const spec = this.host.agent(taskAgent ?? this.agentOf(key))?.mailbox ?? { size: 64, policy: 'block' as const };
      b = new Mailbox(key, spec.size, spec.policy);
      this.boxes.set(key, b);
    }
    return b;
  }

  private agentOf(key: string): string {
    if (key.startsWith('task:')) return this.host.task(key.slice(5))?.agent ?? key;
    return key.slice(0, key.lastIndexOf('#'));
  }

  private keyAddress(key: string): Address {
    const i = key.lastIndexOf('#');
    return { kind: 'instance', agent: key.slice(0, i), instance: Number(key.slice(i + 1)) };
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
    if (!key.startsWith('task:')) acb.mailbox_depth = box.depth;
    const c = this.count(acb.agent);
    c.max_mailbox_depth = Math.max(c.max_mailbox_depth, box.depth);
  }

  private afterEnqueue(box: Mailbox): void {
    this.mirrorDepth(box.key);
    // Hand the message to a receiver already waiting for it, if any.
    const acb = this.liveAcb(box.key);
    if (!acb) return;
    const key = instanceKey(acb.agent, acb.instance);
    const list = this.waiters.get(key);
    if (!list) return;
    while (list.length > 0) {
      // Off the list before taking: taking may admit a blocked sender, which re-enters here.
      const w = list.shift()!;
      if (!this.waiterValid(w)) {
        clearTimeout(w.timer);
        w.resolve(null);
        continue;
      }
      const m = this.take(w.acb, w.taskId);
      if (!m) {
        list.unshift(w);
        return;
      }
      clearTimeout(w.timer);
      w.resolve(m);
    }
  }

  /** A waiter whose process died or moved on to another attempt must not swallow a message. */
  private waiterValid(w: Waiter): boolean {
    return (w.acb.state === 'busy' || w.acb.state === 'idle') && w.acb.task === w.taskId;
  }

  private removeWaiter(key: string, w: Waiter): void {
    const list = this.waiters.get(key);
    const i = list?.indexOf(w) ?? -1;
    if (i >= 0) list!.splice(i, 1);
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
    if (slot && from === slot) acb.mailbox_depth = slot.depth;
    const latency = performance.now() - m.sentAt;
    if (this.latencies.length < MAX_LATENCIES_KEPT) this.latencies.push(latency);
    const rc = this.count(acb.agent);
    rc.delivered++;
    rc.delivered_bytes += m.bytes;
    return { from: m.from, to: m.to, topic: m.topic, seq: m.seq, payload: m.payload, latency_ms: round(latency)! };
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
    this.deadCount++;
    this.count(this.agentOf(m.to)).dead_letters++;
    this.host.events.emit({ type: 'bus.dead_letter', to: m.to, from: m.from.address, seq: m.seq, reason });
    if (this.dead.length >= MAX_DEAD_LETTERS_KEPT) return;
    let preview: string;
    try {
      preview = JSON.stringify(m.payload)?.slice(0, 200) ?? 'undefined';
    } catch {
      preview = '(unserialisable)';
    }
    this.dead.push({ from: m.from.address, from_task: m.from.task, to: m.to, topic: m.topic, seq: m.seq, bytes: m.bytes, reason, preview });
  }

  private count(agent: string): AgentCounters {
    let c = this.counters.get(agent);
    if (!c) {
      c = { sent: 0, sent_bytes: 0, delivered: 0, delivered_bytes: 0, dropped: 0, rejected: 0, dead_letters: 0, max_mailbox_depth: 0 };
      this.counters.set(agent, c);
    }
    return c;
  }
}

function round(n: number | null): number | null {
  return n === null ? null : Math.round(n * 1000) / 1000;
}
