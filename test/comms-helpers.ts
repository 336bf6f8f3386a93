/** Run a plan (given as an object) over the comms fixture agents through the real CLI; return the report and events. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport } from '../src/observe/report.js';
import { expectAllGone, readEvents, readJson, ROOT, runCli, tempDir } from './helpers.js';

export const COMMS_AGENTS = join(ROOT, 'test/fixtures/comms-agents');

export interface PlanTask {
  id: string;
  agent: string;
  deps?: string[];
  input?: unknown;
}

export async function runPlan(tasks: PlanTask[], extra: string[] = []) {
  const dir = tempDir('agentos-comms-');
  const plan = join(dir, 'plan.yaml');
  // JSON is YAML: no YAML writer needed.
  writeFileSync(plan, JSON.stringify({ name: 'comms-test', tasks }));
  const reportFile = join(dir, 'report.json');
  const res = await runCli(['run', plan, '--agents', COMMS_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile, '--quiet', '--concurrency', '16', ...extra]);
  const report = readJson<RunReport>(reportFile);
  const events = readEvents(report.run_dir);
  await expectAllGone(report.processes.map((p) => p.pid));
  return { res, report, events, output: (id: string) => report.tasks.find((t) => t.id === id)!.output as Record<string, unknown> };
}
