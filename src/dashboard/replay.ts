/**
 * A finished run, read back from its run directory: events.jsonl folded into a RunView exactly as the
 * live run was, then report.json (when present) for the final process table and task outputs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { TimedEvent } from '../kernel-api/events.js';
import { RunView } from './run-view.js';

export interface LoadedRun {
  view: RunView;
  /** The events, in order, for a paced replay (see replayPaced). */
  list: TimedEvent[];
  report: Parameters<RunView['applyReport']>[0] | undefined;
  events: number;
  /** Lines of events.jsonl that were not events (a run killed mid-write leaves half a line). */
  skipped: number;
  hasReport: boolean;
}

export function loadRunDir(dir: string): LoadedRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError('E_FILE_NOT_FOUND', `--run ${dir}: no such run directory. Fix: pass a run directory such as .agentos/runs/<run id>.`);
  }
  const file = join(dir, 'events.jsonl');
  if (!existsSync(file)) throw new InputError('E_FILE_NOT_FOUND', `--run ${dir}: no events.jsonl in it. Fix: pass the directory of a run (it holds events.jsonl and report.json).`, { file });
  const view = new RunView();
  const list: TimedEvent[] = [];
  let events = 0;
  let skipped = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      skipped++;
      continue;
    }
    if (typeof e.type !== 'string' || typeof e.t !== 'number') {
      skipped++;
      continue;
    }
    delete e.level;
    delete e.time;
    view.apply(e as unknown as TimedEvent);
    list.push(e as unknown as TimedEvent);
    events++;
  }
  const reportFile = join(dir, 'report.json');
  let hasReport = false;
  let report: LoadedRun['report'];
  if (existsSync(reportFile)) {
    try {
      report = JSON.parse(readFileSync(reportFile, 'utf8')) as Parameters<RunView['applyReport']>[0];
      view.applyReport(report);
      hasReport = true;
    } catch (err) {
      throw new InputError('E_SCHEMA', `${reportFile}: not a readable report (${(err as Error).message}).`, { file: reportFile });
    }
  }
  if (events === 0) throw new InputError('E_SCHEMA', `${file}: holds no events. Fix: pass the directory of a run that started.`, { file });
  return { view, list, report, events, skipped, hasReport };
}

/**
 * Replay at `speed` x the run's own pace into a fresh view: the page watches the run happen again.
 * Returns the view at once and a stop function; `done` resolves after the last event (and the report).
 */
export function replayPaced(loaded: LoadedRun, speed: number): { view: RunView; done: Promise<void>; stop: () => void } {
  const view = new RunView();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let wake: () => void = () => {};
  const done = new Promise<void>((resolve) => (wake = resolve));
  const t0 = loaded.list[0]?.t ?? 0;
  const started = performance.now();
  let i = 0;
  const step = (): void => {
    if (stopped) return;
    const now = (performance.now() - started) * speed + t0;
    while (i < loaded.list.length && loaded.list[i]!.t <= now) view.apply(loaded.list[i++]!);
    if (i < loaded.list.length) {
      timer = setTimeout(step, Math.min(250, Math.max(5, (loaded.list[i]!.t - now) / speed)));
      return;
    }
    if (loaded.report) view.applyReport(loaded.report);
    wake();
  };
  step();
  return {
    view,
    done,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      wake();
    },
  };
}
