/**
 * Bounded shutdown: ending the agents (LocalRunner.close: staged SIGTERM -> grace -> SIGKILL per process)
 * gets `bound_ms`; past it - or at once on a second interrupt - every agent group and cgroup is SIGKILLed
 * through the reaper, `FORCED_WAIT_MS` more is given for the exits to be seen, and shutdown goes on
 * regardless, so the report is always written. A flooded or corrupted agent channel cannot hold it.
 */
import type { EventLog } from '../kernel-api/events.js';
import type { Reaper } from '../process/reaper.js';

/** Added to the longest kill grace of the run's agents: the bound of the orderly part, ms. */
export const SHUTDOWN_SLACK_MS = 5_000;
/** After the forced kill, how long the exits are waited for, ms. */
export const FORCED_WAIT_MS = 1_000;

export interface ShutdownParts {
  /** Ends every agent process and the reaper (resolves when all are gone). */
  close(): Promise<void>;
  reaper(): Reaper | undefined;
  events: EventLog;
  /** The orderly part's bound, ms. */
  boundMs: number;
  /** Resolves on a second interrupt: force at once. */
  forced: Promise<void>;
}

function within(p: Promise<unknown>, ms: number, also?: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const racers: Array<Promise<boolean>> = [p.then(() => true, () => true), timeout];
  if (also) racers.push(also.then(() => false));
  return Promise.race(racers).finally(() => clearTimeout(timer));
}

/** Run `close` within its bound, forcing the end when it overruns or a second interrupt comes. Never rejects. */
export async function boundedClose(s: ShutdownParts): Promise<void> {
  const t0 = performance.now();
  const closed = s.close();
  closed.catch(() => {});
  if (await within(closed, s.boundMs, s.forced)) return;
  s.events.emit({ type: 'shutdown.overdue', step: 'end agents', waited_ms: Math.round(performance.now() - t0) });
  s.reaper()?.killAll();
  if (await within(closed, FORCED_WAIT_MS)) return;
  // Still not closed (a process whose exit Node never reported): the reaper goes, killing what it tracks.
  await within(s.reaper()?.close() ?? Promise.resolve(), 3_000);
}
