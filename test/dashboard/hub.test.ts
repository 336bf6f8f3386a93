import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EventLog } from '../../src/kernel-api/events.js';
import { RunView } from '../../src/dashboard/run-view.js';
import { DashboardServer } from '../../src/dashboard/server.js';
import { waitFor } from '../helpers.js';

interface Msg {
  type: string;
  seq?: number;
  events?: Array<{ seq: number }>;
}

const servers: DashboardServer[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});

function client(url: string): { ws: WebSocket; msgs: Msg[]; opened: Promise<void> } {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const msgs: Msg[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(String(d)) as Msg));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, msgs, opened };
}

describe('dashboard fan-out: late joiners and slow clients', () => {
  it('a late joiner gets the state first, then the stream; a stalled client is skipped, never buffered without bound, and resynced', async () => {
    const events = new EventLog();
    const view = new RunView();
    events.on((e) => view.apply(e));
    const high = 64 * 1024;
    const server = await DashboardServer.start({ mode: 'live', port: 0, tickMs: 20, highWaterBytes: high, lowWaterBytes: 16 * 1024 });
    servers.push(server);
    server.setView(view);
    const wsUrl = `ws://127.0.0.1:${server.port}/ws?token=${server.token}`;

    events.emit({ type: 'run.started', run_id: 'r1', plan: 'p', tasks: 1, agents: ['a'], run_dir: '/x' });
    events.emit({ type: 'task.added', task: 't1', agent: 'a', deps: [], dynamic: false });
    events.emit({ type: 'task.state', task: 't1', state: 'ready' });

    // Late joiner: hello, then a snapshot holding everything so far.
    const late = client(wsUrl);
    await late.opened;
    await waitFor(() => late.msgs.some((m) => m.type === 'snapshot'), 5000, 'a snapshot');
    const snap = late.msgs.find((m) => m.type === 'snapshot') as Msg & { tasks: Array<{ id: string; state: string }> };
    expect(late.msgs[0]!.type).toBe('hello');
    expect(snap.tasks).toEqual([expect.objectContaining({ id: 't1', state: 'ready' })]);
    expect(snap.seq).toBe(3);

    // A stalled client: it stops reading from its socket.
    const slow = client(wsUrl);
    await slow.opened;
    await waitFor(() => slow.msgs.some((m) => m.type === 'snapshot'), 5000, 'the slow client snapshot');
    (slow.ws as unknown as { _socket: Socket })._socket.pause();

    // Flood: ~40 MB of log events over ~2 s, far more than any socket buffer holds.
    const msg = 'x'.repeat(1000);
    let maxBuffered = 0;
    const serverSide = (): number => {
      let m = 0;
      // the server's own per-client buffers (what would grow without bound if we pushed every event)
      for (const c of (server as unknown as { wss: { clients: Set<WebSocket> } }).wss.clients) m = Math.max(m, c.bufferedAmount);
      return m;
    };
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 400; i++) events.emit({ type: 'task.log', task: 't1', agent: 'a', level: 'info', msg });
      maxBuffered = Math.max(maxBuffered, serverSide());
      await new Promise((r) => setTimeout(r, 20));
      maxBuffered = Math.max(maxBuffered, serverSide());
    }
    const stats = server.hubStats;
    expect(stats.dropped).toBeGreaterThan(0);
    // Never more than the high-water mark plus one message (a snapshot is at most 2000 events).
    expect(maxBuffered).toBeLessThan(high + 2000 * 1100 + 64 * 1024);

    // The reading client was not held back: it has every event, in order, up to the last one.
    const finalSeq = view.seq;
    await waitFor(() => late.msgs.some((m) => m.seq === finalSeq), 10_000, 'the fast client to catch up');
    let seen = 3;
    for (const m of late.msgs) {
      if (m.type === 'snapshot') seen = m.seq!;
      if (m.type !== 'delta') continue;
      for (const e of m.events!) {
        expect(e.seq).toBe(seen + 1);
        seen = e.seq;
      }
    }
    expect(seen).toBe(finalSeq);

    // The stalled client reads again: it gets one fresh snapshot at the latest seq, not the backlog.
    const before = slow.msgs.length;
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    await waitFor(() => slow.msgs.slice(before).some((m) => m.type === 'snapshot' && m.seq === finalSeq), 10_000, 'the resync snapshot');
    const deltasAfter = slow.msgs.slice(before).filter((m) => m.type === 'delta').reduce((n, m) => n + m.events!.length, 0);
    expect(deltasAfter).toBeLessThan(40_000);
  });

  it('answers a reconnect after a run switch with the new run', async () => {
    const server = await DashboardServer.start({ mode: 'live', port: 0, tickMs: 20 });
    servers.push(server);
    const a = new RunView();
    a.apply({ type: 'run.started', run_id: 'first', plan: 'p', tasks: 0, agents: [], run_dir: '/a', t: 0 });
    server.setView(a);
    const c = client(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await c.opened;
    await waitFor(() => c.msgs.some((m) => m.type === 'snapshot' && (m as unknown as { run: { run_id: string } }).run?.run_id === 'first'), 5000, 'first run');
    const b = new RunView();
    b.apply({ type: 'run.started', run_id: 'second', plan: 'p', tasks: 0, agents: [], run_dir: '/b', t: 0 });
    server.setView(b);
    await waitFor(() => c.msgs.some((m) => m.type === 'snapshot' && (m as unknown as { run: { run_id: string } }).run?.run_id === 'second'), 5000, 'second run');
  });
});
