/**
 * A finished run, read back from its run directory: events.jsonl folded into a RunView exactly as the
 * live run was, then report.json (when present) for the final process table and task outputs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { TimedEvent } from '../observe/events.js';
import { RunView } from './run-view.js';

export interface LoadedRun {
  view: RunView;
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
    events++;
  }
  const reportFile = join(dir, 'report.json');
  let hasReport = false;
  if (existsSync(reportFile)) {
    try {
      view.applyReport(JSON.parse(readFileSync(reportFile, 'utf8')) as Parameters<RunView['applyReport']>[0]);
      hasReport = true;
    } catch (err) {
      throw new InputError('E_SCHEMA', `${reportFile}: not a readable report (${(err as Error).message}).`, { file: reportFile });
    }
  }
  if (events === 0) throw new InputError('E_SCHEMA', `${file}: holds no events. Fix: pass the directory of a run that started.`, { file });
  return { view, events, skipped, hasReport };
}
