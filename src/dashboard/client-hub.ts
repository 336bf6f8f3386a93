/**
 * Fans a RunView out to WebSocket clients without ever letting a slow one slow the kernel or grow memory
 * without bound. Updates are pulled on a timer (not pushed per event): each tick a client gets one delta
 * covering everything since its last seq. A client whose socket buffer is above the high-water mark gets
 * nothing (the update is dropped and counted); once it drains below the low-water mark it gets one fresh
 * snapshot, which coalesces everything it missed. So per client at most ~high-water + one message is
 * ever buffered, whatever the event rate.
 */
import { WebSocket } from 'ws';
import type { RunView } from './run-view.js';

export interface HubOptions {
  /** @default 150 */
  tickMs?: number;
  /** Socket buffer above which a client is skipped. @default 512 KiB */
  highWaterBytes?: number;
  /** Buffer below which a skipped client is resynced. @default 64 KiB */
  lowWaterBytes?: number;
}

interface Client {
  ws: WebSocket;
  seq: number;
  viewId: number;
  stale: boolean;
  lastSendAt: number;
}

export interface HubStats {
  clients: number;
  messages: number;
  bytes: number;
  snapshots: number;
  dropped: number;
}

export class ClientHub {
  private readonly clients = new Set<Client>();
  private view: RunView | undefined;
  private viewId = 0;
  private hello: Record<string, unknown> = {};
  private readonly timer: NodeJS.Timeout;
  private readonly high: number;
  private readonly low: number;
  readonly stats: HubStats = { clients: 0, messages: 0, bytes: 0, snapshots: 0, dropped: 0 };

  constructor(opts: HubOptions = {}) {
    this.high = opts.highWaterBytes ?? 512 * 1024;
    this.low = opts.lowWaterBytes ?? 64 * 1024;
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 150);
    this.timer.unref();
  }

  /** Show this view from now on; every client gets a snapshot of it on the next tick. */
  setView(view: RunView | undefined, hello: Record<string, unknown>): void {
    this.view = view;
    this.hello = hello;
    this.viewId++;
    for (const c of this.clients) this.send(c, { type: 'hello', ...hello });
  }

  updateHello(hello: Record<string, unknown>): void {
    this.hello = hello;
    for (const c of this.clients) this.send(c, { type: 'hello', ...hello });
  }

  add(ws: WebSocket): void {
    const c: Client = { ws, seq: -1, viewId: -1, stale: false, lastSendAt: 0 };
    this.clients.add(c);
    this.stats.clients = this.clients.size;
    ws.on('close', () => {
      this.clients.delete(c);
      this.stats.clients = this.clients.size;
    });
    ws.on('error', () => ws.terminate());
    // A late joiner gets the current state at once, then the live stream.
    this.send(c, { type: 'hello', ...this.hello });
    this.sync(c);
  }

  private send(c: Client, msg: unknown): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    const data = JSON.stringify(msg);
    this.stats.messages++;
    this.stats.bytes += data.length;
    c.lastSendAt = Date.now();
    c.ws.send(data);
  }

  private sync(c: Client): void {
    const v = this.view;
    c.viewId = this.viewId;
    c.stale = false;
    if (!v) {
      this.send(c, { type: 'snapshot', seq: 0, run: null, tasks: [], events: [], procs: [], metrics: null, report: null });
      c.seq = 0;
      return;
    }
    this.stats.snapshots++;
    const snap = v.snapshot();
    c.seq = snap.seq;
    this.send(c, { type: 'snapshot', ...snap });
  }

  /** One round of updates (public for tests; the timer calls it). */
  tick(): void {
    const v = this.view;
    const cache = new Map<number, string | null>();
    const now = Date.now();
    for (const c of this.clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      const buffered = c.ws.bufferedAmount;
      if (buffered > this.high || (c.stale && buffered > this.low)) {
        c.stale = true;
        this.stats.dropped++;
        continue;
      }
      if (c.stale || c.viewId !== this.viewId || !v) {
        if (c.stale || c.viewId !== this.viewId) this.sync(c);
        continue;
      }
      // Nothing new: a keep-alive delta once a second keeps the process table's RSS/CPU moving.
      if (c.seq >= v.seq && now - c.lastSendAt < 1000) continue;
      let data = cache.get(c.seq);
      if (data === undefined) {
        const d = v.delta(c.seq);
        data = d ? JSON.stringify({ type: 'delta', ...d }) : null;
        cache.set(c.seq, data);
      }
      if (data === null) {
        this.sync(c); // too far behind the event ring: start over from a snapshot
        continue;
      }
      c.seq = v.seq;
      this.stats.messages++;
      this.stats.bytes += data.length;
      c.lastSendAt = now;
      c.ws.send(data);
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
  }
}
