/**
 * Writes every event as one JSON line to `events.jsonl` in the run directory, in batches with a bounded
 * delay: an event reaches the file (the OS page cache, one write()) at most `EVENTS_FLUSH_MS` after it
 * was emitted, sooner once the batch holds `EVENTS_BATCH_BYTES`. So a SIGKILLed kernel leaves every event
 * up to that delay before its death (the last line may be torn). No fsync: a killed process loses
 * nothing the OS already has; a power cut may (the journal, src/journal/, is the durable record).
 *
 * Why not pino's async destination: its buffer flushes only when it reaches `minLength`, so a quiet run
 * killed with SIGKILL left an empty file. A synchronous write per batch costs one syscall per window,
 * not one per event, and keeps the emit path to a JSON.stringify and an array push.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EventLog, TimedEvent } from '../kernel-api/events.js';

/** Longest an event waits before its batch is written, in ms (docs/observability.md). */
export const EVENTS_FLUSH_MS = 20;
/** A batch this large (bytes, roughly: UTF-16 code units) is written at once. */
export const EVENTS_BATCH_BYTES = 256 * 1024;
/** A single event line longer than this (code units) is replaced by a stub saying so. */
export const EVENT_MAX_LINE = 1 << 20;

/** One event as a line (with `time`, epoch ms); never throws (BigInt, cycles, throwing getters). */
export function eventLine(e: TimedEvent, time = Date.now()): string {
  let json: string;
  try {
    json = JSON.stringify(e);
  } catch {
    json = safeStringify(e);
  }
  if (json.length > EVENT_MAX_LINE) json = JSON.stringify({ type: e.type, t: e.t, truncated: true, chars: json.length });
  return `{"time":${time},${json.slice(1)}\n`;
}

function safeStringify(e: TimedEvent): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(e, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    });
  } catch (err) {
    return JSON.stringify({ type: e.type, t: e.t, unserializable: String((err as Error)?.message ?? err).slice(0, 200) });
  }
}

export class EventFileLogger {
  readonly file: string;
  private fd: number;
  private readonly off: () => void;
  /** process.exit() (a third Ctrl-C, a fatal error) skips timers: write what is queued first. */
  private readonly onExit = (): void => this.flush();
  private lines: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The first write error (ENOSPC, EIO...): logging stops, the run goes on. */
  error: Error | undefined;
  /** Counters: events queued, write() calls made. */
  readonly stats = { events: 0, writes: 0 };

  constructor(events: EventLog, runDir: string) {
    this.file = join(runDir, 'events.jsonl');
    this.fd = openSync(this.file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
    this.off = events.on((e) => this.add(eventLine(e)));
    process.on('exit', this.onExit);
  }

  private add(line: string): void {
    if (this.fd < 0) return;
    this.lines.push(line);
    this.bytes += line.length;
    this.stats.events++;
    if (this.bytes >= EVENTS_BATCH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), EVENTS_FLUSH_MS);
  }

  /** Write the open batch now (synchronously). Safe to call at any time, also from a signal handler. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0 || this.fd < 0) return;
    const buf = Buffer.from(this.lines.join(''), 'utf8');
    this.lines = [];
    this.bytes = 0;
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
      this.stats.writes++;
    } catch (err) {
      // A full disk must not stop the kernel: stop logging, keep the reason (docs/observability.md).
      this.error ??= err as Error;
      this.closeFd();
    }
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = -1;
  }

  /** Flush and close; call once at the end of the run (also on interrupt). Idempotent. */
  close(): void {
    this.off();
    process.off('exit', this.onExit);
    this.flush();
    this.closeFd();
  }
}
