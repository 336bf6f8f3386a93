/**
 * The channel end to end with a real Node child speaking worker/channel.ts on fd 3: handshake, tasks,
 * syscalls, logs, and the violations that must end a process without hurting the kernel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../helpers.js';
import { killAll, startNodeAgent, task } from './harness.js';

afterEach(killAll);

describe('kernel channel <-> Node agent (worker/channel.ts)', () => {
  it('handshake, then a task answered by its result', async () => {
    const a = startNodeAgent();
    const ready = await a.next('ready');
    expect(ready).toEqual({ type: 'ready', pid: a.pid, protocol: 1, runtime: 'node' });
    a.channel.send(task('r1', { op: 'echo', value: { deep: [1, 'é', null] } }, { attempt: 2, deps: { up: 7 } }));
    const res = await a.next('result');
    expect(res).toEqual({ type: 'result', requestId: 'r1', taskId: 't-r1', ok: true, output: { value: { deep: [1, 'é', null] }, attempt: 2, key: 'key-r1', deps: { up: 7 } } });
    expect(a.channel.stats).toMatchObject({ framesIn: 2, framesOut: 1, violations: 0 });
  });

  it('syscalls round trip: scripted replies, an error reply carries its code', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    a.answerCalls((c) => (c.op === 'memory.get' ? { error: { name: 'SyscallError', message: 'no such key', code: 'E_NO_KEY' } } : { value: { echoed: c.args } }));
    const calls = [
      { op: 'bus.send', args: { to: 'b', payload: 1 } },
      { op: 'memory.get', args: { key: 'missing' } },
      { op: 'tokens.count', args: { text: 'hi' } },
    ];
    a.channel.send(task('r1', { op: 'calls', calls }));
    const res = await a.next('result');
    expect(res.output).toEqual([
      { ok: true, value: { echoed: { to: 'b', payload: 1 } } },
      { ok: false, code: 'E_NO_KEY' },
      { ok: true, value: { echoed: { text: 'hi' } } },
    ]);
    expect(a.messages.filter((m) => m.type === 'call').map((m) => [m.callId, m.requestId, m.op])).toEqual([
      [1, 'r1', 'bus.send'],
      [2, 'r1', 'memory.get'],
      [3, 'r1', 'tokens.count'],
    ]);
  });

  it('log frames arrive in order before the result, and pause/resume keeps the order', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    let seen = 0;
    const order: number[] = [];
    const orig = a.messages.push.bind(a.messages);
    a.messages.push = (...ms) => {
      for (const m of ms) {
        if (m.type === 'log') {
          order.push(Number(String(m.msg).slice(5)));
          // The kernel pushes back (its log writer is full): pause, resume on the next turn.
          if (++seen % 1000 === 0) {
            a.channel.pause();
            setImmediate(() => a.channel.resume());
          }
        }
      }
      return orig(...ms);
    };
    a.channel.send(task('r1', { op: 'log', n: 20_000 }));
    const res = await a.next('result');
    expect(res.output).toEqual({ logged: 20_000 });
    expect(order.length).toBe(20_000);
    expect(order.every((v, i) => v === i)).toBe(true);
  });

  it('garbage on the channel is a violation: reported once, reading stops', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    a.channel.send(task('r1', { op: 'garbage' }));
    await expect.poll(() => a.violations.length).toBe(1);
    expect(a.violations[0]).toMatch(/^not JSON/);
    expect(a.channel.closed).toBe(true);
    expect(a.messages.some((m) => m.type === 'result')).toBe(false);
    // The channel is gone for the agent too: it exits by itself (EOF/EPIPE), no kill needed.
    const { code } = await a.exited;
    expect(code).toBe(0);
  });

  it('an oversized frame is a violation, with no more than one chunk buffered past the limit', async () => {
    const limit = 1024 * 1024;
    const a = startNodeAgent({}, { maxFrameBytes: limit });
    await a.next('ready');
    a.channel.send(task('r1', { op: 'oversize', bytes: 256 * 1024 * 1024 }));
    await expect.poll(() => a.violations.length).toBe(1);
    expect(a.violations[0]).toMatch(/over the size limit: more than 1048576 bytes/);
    // Stopped at the limit: what was read is the limit plus at most one socket read (64 KiB), not 256 MiB.
    const readAtViolation = a.channel.stats.bytesIn;
    expect(readAtViolation).toBeGreaterThan(limit);
    expect(readAtViolation).toBeLessThanOrEqual(limit + 64 * 1024 + 200);
    await a.exited; // EPIPE on its next write: the agent leaves by itself
    expect(a.channel.stats.bytesIn).toBe(readAtViolation);
  });

  it('a flood of 1,000,000 garbage lines: one violation, nothing else processed, the agent ends', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    a.channel.send(task('r1', { op: 'flood', n: 1_000_000, garbage: true }));
    const { code } = await a.exited;
    expect(code).toBe(0);
    expect(a.violations).toHaveLength(1);
    expect(a.channel.stats.framesIn).toBe(1); // only `ready`
    expect(a.channel.stats.bytesIn).toBeLessThan(1_000_000 * 24); // it stopped reading long before the end
  });

  it('a flood of 200,000 valid frames is delivered completely and in order', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    a.channel.send(task('r1', { op: 'flood', n: 200_000 }));
    const res = await a.next('result', 60_000);
    expect(res.output).toEqual({ sent: 200_000 });
    expect(a.messages.filter((m) => m.type === 'log')).toHaveLength(200_000);
    expect(a.violations).toEqual([]);
  });

  it('EOF from the kernel: the agent exits at once and its pid is gone', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    a.channel.close();
    const { code, signal } = await a.exited;
    expect([code, signal]).toEqual([0, null]);
    expect(pidAlive(a.pid)).toBe(false);
    expect(a.channel.send({ type: 'shutdown' })).toBe(false); // after close: dropped, not thrown
    expect(a.errors.map((e) => e.message)).toEqual(['send(shutdown) on a closed agent channel: dropped']);
  });

  it('shutdown: the agent exits 0', async () => {
    const a = startNodeAgent();
    await a.next('ready');
    a.channel.send({ type: 'shutdown' });
    expect(await a.exited).toEqual({ code: 0, signal: null });
  });
});
