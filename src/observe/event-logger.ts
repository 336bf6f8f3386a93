/** Writes every event as one JSON line (pino) to `events.jsonl` in the run directory. */
import { join } from 'node:path';
import pino from 'pino';
import type { EventLog } from '../kernel-api/events.js';

export class EventFileLogger {
  private readonly dest: pino.DestinationStream & { flushSync(): void; end(): void };
  private readonly off: () => void;

  constructor(events: EventLog, runDir: string) {
    this.dest = pino.destination({ dest: join(runDir, 'events.jsonl'), sync: false, mkdir: true, minLength: 4096 }) as typeof this.dest;
    const logger = pino({ base: null, messageKey: 'msg' }, this.dest);
    this.off = events.on((e) => logger.info(e));
  }

  /** Flush and close; call once at the end of the run (also on interrupt). */
  close(): void {
    this.off();
    try {
      this.dest.flushSync();
    } catch {
      // not ready yet (nothing written): nothing to flush
    }
    this.dest.end();
  }
}
