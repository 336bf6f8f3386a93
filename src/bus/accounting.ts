/**
 * What the bus counts for the report: per-agent counters, delivery latencies, held messages and dead
 * letters (bounded: the kernel never keeps more than it can afford for a run that floods).
 */
import type { EventLog } from '../kernel-api/events.js';
import { percentile, round3 } from '../lib/stats.js';
import type { BusMessage } from './mailbox.js';

export interface AgentCounters {
  sent: number;
  sent_bytes: number;
  delivered: number;
  delivered_bytes: number;
  dropped: number;
  rejected: number;
  dead_letters: number;
  max_mailbox_depth: number;
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

const MAX_DEAD_LETTERS_KEPT = 1000;
const MAX_LATENCIES_KEPT = 200_000;

export class BusAccounting {
  private readonly counters = new Map<string, AgentCounters>();
  private readonly latencies: number[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly published = new Map<string, number>();
  private deadCount = 0;
  heldCount = 0;

  constructor(private readonly events: EventLog) {}

  /** The counters of one agent (made on first use). */
  count(agent: string): AgentCounters {
    let c = this.counters.get(agent);
    if (!c) {
      c = { sent: 0, sent_bytes: 0, delivered: 0, delivered_bytes: 0, dropped: 0, rejected: 0, dead_letters: 0, max_mailbox_depth: 0 };
      this.counters.set(agent, c);
    }
    return c;
  }

  sent(agent: string, bytes: number): void {
    const c = this.count(agent);
    c.sent++;
    c.sent_bytes += bytes;
  }

  /** One message handed to a receiver of `agent`; returns its latency in ms (rounded). */
  delivered(agent: string, m: BusMessage): number {
    const latency = performance.now() - m.sentAt;
    if (this.latencies.length < MAX_LATENCIES_KEPT) this.latencies.push(latency);
    const c = this.count(agent);
    c.delivered++;
    c.delivered_bytes += m.bytes;
    return round3(latency)!;
  }

  depth(agent: string, depth: number): void {
    const c = this.count(agent);
    c.max_mailbox_depth = Math.max(c.max_mailbox_depth, depth);
  }

  topic(topic: string): void {
    this.published.set(topic, (this.published.get(topic) ?? 0) + 1);
  }

  /** A message that will never be received, for `agent` (the receiver's). */
  deadLetter(agent: string, m: BusMessage, reason: string): void {
    this.deadCount++;
    this.count(agent).dead_letters++;
    this.events.emit({ type: 'bus.dead_letter', to: m.to, from: m.from.address, seq: m.seq, reason });
    if (this.dead.length >= MAX_DEAD_LETTERS_KEPT) return;
    let preview: string;
    try {
      preview = JSON.stringify(m.payload)?.slice(0, 200) ?? 'undefined';
    } catch {
      preview = '(unserialisable)';
    }
    this.dead.push({ from: m.from.address, from_task: m.from.task, to: m.to, topic: m.topic, seq: m.seq, bytes: m.bytes, reason, preview });
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
      latency_ms: { p50: round3(percentile(sorted, 50)), p95: round3(percentile(sorted, 95)), max: round3(sorted[sorted.length - 1] ?? null) },
      per_agent: per,
      topics: Object.fromEntries(this.published),
    };
  }
}
