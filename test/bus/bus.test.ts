/**
 * The message bus end to end: real agent processes talking through the kernel. Each test runs a plan
 * through the CLI and reads the report; every process started must be gone afterwards (runPlan checks).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../helpers.js';
import { runPlan } from '../comms-helpers.js';

afterAll(cleanupTempDirs);

interface Got {
  from: { agent: string; instance: number; address: string; task: string; pid: number };
  seq: number;
  topic: string | null;
  payload: { i: number; from?: string; by?: string };
}

describe('message bus', () => {
  it('stamps the real sender: a forged from in the payload is just payload, a forged from argument is refused', async () => {
    const { res, report, output } = await runPlan([
      { id: 'forger', agent: 'bus_sender', input: { to: 'victim', count: 1, forge: true } },
      { id: 'victim', agent: 'bus_receiver', input: { count: 2 } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const forger = output('forger') as { pid: number; forge: string };
    expect(forger.forge).toBe('E_SCHEMA');
    const got = (output('victim') as { got: Got[] }).got;
    expect(got).toHaveLength(2);
    for (const m of got) {
      expect(m.from.agent).toBe('bus_sender');
      expect(m.from.address).toBe(`bus_sender#${m.from.instance}`);
      expect(m.from.task).toBe('forger');
      expect(m.from.pid).toBe(forger.pid);
    }
    expect(got[0]!.payload.from).toBe('boss#1'); // only inside the payload
    expect(report.bus!.messages_delivered).toBe(2);
  });

  it('keeps order per sender -> receiver pair with three concurrent senders', async () => {
    const N = 40;
    const { res, report, output } = await runPlan([
      { id: 's1', agent: 'bus_sender', input: { to: 'sink', count: N } },
      { id: 's2', agent: 'bus_sender', input: { to: 'sink', count: N } },
      { id: 's3', agent: 'bus_sender', input: { to: 'sink', count: N } },
      { id: 'sink', agent: 'bus_receiver', input: { count: 3 * N } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const got = (output('sink') as { got: Got[] }).got;
    expect(got).toHaveLength(3 * N);
    for (const task of ['s1', 's2', 's3']) {
      const mine = got.filter((m) => m.from.task === task);
      expect(mine.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(mine.map((m) => m.payload.i)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    }
    expect(report.bus!.latency_ms.p50).not.toBeNull();
  });

  it('policy reject: a full mailbox refuses the send and the sender sees E_MAILBOX_FULL', async () => {
    const { res, report, events, output } = await runPlan([
      { id: 'send', agent: 'bus_sender', input: { to: 'bus_small_reject', count: 5, sequential: true } },
      { id: 'recv', agent: 'bus_small_reject', deps: ['send'], input: { timeout_ms: 300 } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    expect((output('send') as { codes: string[] }).codes).toEqual(['queued', 'queued', 'E_MAILBOX_FULL', 'E_MAILBOX_FULL', 'E_MAILBOX_FULL']);
    expect((output('recv') as { got: Got[] }).got.map((m) => m.payload.i)).toEqual([1, 2]);
    expect(events.filter((e) => e.type === 'bus.dropped' && e.policy === 'reject')).toHaveLength(3);
    expect(report.bus!.per_agent.bus_small_reject!.rejected).toBe(3);
  });

  it('policy drop_oldest: the oldest messages are dropped, each drop an event', async () => {
    const { res, report, events, output } = await runPlan([
      { id: 'send', agent: 'bus_sender', input: { to: 'bus_small_drop', count: 5, sequential: true } },
      { id: 'recv', agent: 'bus_small_drop', deps: ['send'], input: { timeout_ms: 300 } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    expect((output('send') as { codes: string[] }).codes).toEqual(Array(5).fill('queued'));
    expect((output('recv') as { got: Got[] }).got.map((m) => m.payload.i)).toEqual([4, 5]);
    const drops = events.filter((e) => e.type === 'bus.dropped' && e.policy === 'drop_oldest');
    expect(drops.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(report.bus!.messages_dropped).toBe(3);
  });

  it('policy block: a slow consumer holds the sender back (backpressure), nothing is lost or reordered', async () => {
    const { res, report, events, output } = await runPlan([
      { id: 'send', agent: 'bus_sender', input: { to: 'bus_small_block', count: 8 } },
      { id: 'recv', agent: 'bus_small_block', input: { count: 8, start_delay_ms: 300, delay_ms: 20 } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    expect((output('recv') as { got: Got[] }).got.map((m) => m.payload.i)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.filter((e) => e.type === 'bus.blocked').length).toBeGreaterThan(0);
    expect(report.bus!.per_agent.bus_small_block!.max_mailbox_depth).toBeLessThanOrEqual(2);
    expect(report.bus!.messages_dropped + report.bus!.messages_rejected).toBe(0);
  });

  it('holds messages for an agent that is restarting and delivers them to the new process', async () => {
    const { res, report, output } = await runPlan([
      { id: 'flaky', agent: 'bus_flaky', input: { feeder: 'feeder', count: 3 } },
      { id: 'feeder', agent: 'bus_feeder', input: { to: 'bus_flaky', count: 3 } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    const feeder = output('feeder') as { crashed_pid: number; statuses: string[] };
    const flaky = output('flaky') as { pid: number; got: Got[] };
    expect(feeder.statuses).toEqual(['queued', 'queued', 'queued']);
    expect(flaky.pid).not.toBe(feeder.crashed_pid);
    expect(flaky.got.map((m) => m.payload.i)).toEqual([1, 2, 3]);
    expect(flaky.got.every((m) => m.from.task === 'feeder')).toBe(true);
    expect(report.tasks.find((t) => t.id === 'flaky')!.failures.map((f) => f.kind)).toEqual(['crash']);
    expect(report.agents.find((a) => a.name === 'bus_flaky')!.pids).toContain(feeder.crashed_pid);
  });

  it('pub/sub reaches every subscriber of a topic and broadcast every live agent', async () => {
    const sub = (n: number) => ({ id: `sub${n}`, agent: 'bus_pubsub', input: { role: 'subscriber', topic: 'news', publisher: 'pub', count: 3 } });
    const { res, output } = await runPlan([sub(1), sub(2), { id: 'pub', agent: 'bus_pubsub', input: { role: 'publisher', topic: 'news', subscribers: 2, count: 3 } }]);
    expect(res.exitCode, res.all).toBe(0);
    expect((output('pub') as { fan: number[] }).fan).toEqual([2, 2, 2]);
    for (const id of ['sub1', 'sub2']) {
      const got = (output(id) as { got: Got[] }).got;
      expect(got.map((m) => m.topic)).toEqual(['news', 'news', '*']);
      expect(got.map((m) => m.payload.i)).toEqual([1, 2, 3]);
      expect(got.map((m) => m.seq)).toEqual([1, 2, 3]);
    }
  });

  it('lists undeliverable messages as dead letters in the report', async () => {
    const { res, report, output } = await runPlan([
      { id: 'done', agent: 'bus_receiver', input: { count: 0 } },
      { id: 'late', agent: 'bus_sender', deps: ['done'], input: { to: 'done', count: 1, sequential: true } },
      { id: 'unread', agent: 'bus_sender', input: { to: 'bus_small_drop', count: 1, sequential: true } },
    ]);
    expect(res.exitCode, res.all).toBe(0);
    expect((output('late') as { codes: string[] }).codes).toEqual(['dead_letter']);
    const reasons = report.bus!.dead_letters.map((d) => `${d.to}: ${d.reason}`);
    expect(reasons).toContain('task:done: task done is succeeded');
    expect(reasons).toContain('bus_small_drop#1: not received before the run ended');
    expect(report.bus!.dead_letter_count).toBe(2);
  });

  it('refuses bad input with a clear code and stays up', async () => {
    const { res, output } = await runPlan([{ id: 'nobody', agent: 'bus_sender', input: { to: 'no-such-agent-or-task', count: 1, sequential: true } }]);
    expect(res.exitCode, res.all).toBe(0);
    expect((output('nobody') as { codes: string[] }).codes).toEqual(['E_NO_RECIPIENT']);
  });
});
