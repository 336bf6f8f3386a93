/**
 * Incidents: what happened to the kernel itself during a run (it was stopped and continued, its reaper
 * was stopped or died, a shutdown step overran its bound, a second interrupt forced the end). Collected
 * from events for the report's `incidents` list; a run without any has none.
 */
import type { EventLog, TimedEvent } from '../kernel-api/events.js';

const TYPES = new Set(['kernel.stopped', 'reaper.stopped', 'reaper.lost', 'shutdown.overdue', 'run.forced']);

/** One incident: the event as emitted (`type`, `t` in ms since the run began, its fields). */
export type Incident = Extract<TimedEvent, { type: 'kernel.stopped' | 'reaper.stopped' | 'reaper.lost' | 'shutdown.overdue' | 'run.forced' }>;

export class IncidentLog {
  readonly list: Incident[] = [];

  constructor(events: EventLog) {
    // Bounded: an agent that stops its reaper in a loop must not grow the report without end.
    events.on((e) => {
      if (TYPES.has(e.type) && this.list.length < 1000) this.list.push(e as Incident);
    });
  }
}
