/** MessageBus logic in-process (the end-to-end behaviour is in bus.test.ts): bounds and batch receive. */
import { describe, expect, it } from 'vitest';
import { MessageBus, type BusHost } from '../../src/bus/bus.js';
import type { Sender } from '../../src/bus/mailbox.js';
import type { Acb } from '../../src/kernel-api/acb.js';
import { EventLog } from '../../src/kernel-api/events.js';

function acb(agent: string, instance: number, task: string | null): Acb {
  return { agent, instance, pid: 1000 + instance, state: task ? 'busy' : 'idle', task, served: 0, restarts: 0, rss_mb: 0, cpu: 0, peak_rss_mb: 0, quota_mb: 0, mailbox_depth: 0, tokens_used: 0, kv_pages: 0, kv_bytes: 0, rejected_messages: 0, ready_ms: 1, exit: null };
}

function setup(size: number, policy: 'block' | 'drop_oldest' | 'reject') {
  const events = new EventLog();
  const seen: string[] = [];
  events.on((e) => seen.push(e.type));
  const rx = acb('rx', 1, 'read');
  const host: BusHost = {
    events,
    agent: (n) => (n === 'rx' || n === 'tx' ? { instances: 1, mailbox: { size, policy } } : undefined),
    task: (id) => (id === 'read' ? { state: 'running', agent: 'rx' } : id === 'write' ? { state: 'running', agent: 'tx' } : undefined),
    live: () => [rx],
  };
  const bus = new MessageBus(host);
  const from: Sender = { agent: 'tx', instance: 1, address: 'tx#1', task: 'write', pid: 1 };
  return { bus, rx, from, seen };
}

describe('MessageBus bounds', () => {
  it('a block mailbox parks at most 256 waiting sends; more are rejected, nothing reordered', async () => {
    const { bus, rx, from, seen } = setup(2, 'block');
    const to = bus.resolve('rx');
    const results = Array.from({ length: 300 }, (_, i) => bus.send(from, to, { i }, 10).then((r) => r.status, (e: { code: string }) => e.code));
    // 2 queued + 256 waiting; the last 42 are refused
    const settled = await Promise.all(results.slice(258));
    expect(settled).toEqual(Array(42).fill('E_MAILBOX_FULL'));
    expect(seen.filter((t) => t === 'bus.blocked')).toHaveLength(256);
    const got: number[] = [];
    for (let i = 0; i < 258; i++) got.push(((await bus.receive(rx, 'read', 0))!.payload as { i: number }).i);
    expect(got).toEqual(Array.from({ length: 258 }, (_, i) => i));
    expect(await Promise.all(results.slice(0, 258))).toEqual(Array(258).fill('queued'));
    bus.close();
  });

  it('receiveMany takes the waiting message and whatever else is queued, in order; [] on timeout', async () => {
    const { bus, rx, from } = setup(64, 'block');
    expect(await bus.receiveMany(rx, 'read', 0, 10)).toEqual([]);
    const to = bus.resolve({ task: 'read' });
    for (let i = 0; i < 5; i++) await bus.send(from, to, { i }, 10);
    const batch = await bus.receiveMany(rx, 'read', 100, 3);
    expect(batch.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await bus.receiveMany(rx, 'read', 100, 10)).map((m) => m.seq)).toEqual([4, 5]);
    bus.close();
  });
});
