/** Shared test helpers: run the real CLI, inspect pids, wait for conditions (never fixed sleeps). */
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const FIXTURE_AGENTS = join(ROOT, 'test/fixtures/agents');
/** The crash demo's small agents (planner, analyzer, patch_agent, ...), which its plan and the gated demo plan use. */
export const CRASH_DEMO_AGENTS = join(ROOT, 'examples/crash-demo/agents');

const tempDirs: string[] = [];

export function tempDir(prefix = 'agentos-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Run `agentos ...` to completion. */
export async function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  return execa('node', [CLI, ...args], { cwd: opts.cwd ?? ROOT, reject: false, timeout: opts.timeoutMs ?? 60_000, all: true });
}

/** Start `agentos ...` and return the running subprocess. */
export function startCli(args: string[], opts: { cwd?: string } = {}): ResultPromise<{ reject: false; all: true }> {
  return execa('node', [CLI, ...args], { cwd: opts.cwd ?? ROOT, reject: false, all: true });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie is dead for our purposes: it runs nothing and holds no memory.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Wait until `cond` holds, checking on every poll; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Wait until every pid is gone. */
export async function expectAllGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  await waitFor(() => pids.every((p) => !pidAlive(p)), timeoutMs, `pids ${pids.filter(pidAlive).join(', ')} to exit`);
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Events of a run directory's events.jsonl. */
export function readEvents(runDir: string): Array<Record<string, unknown>> {
  const file = join(runDir, 'events.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line still being written
      }
    });
}

/** Child pids of a process (from /proc), recursively. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return out;
  }
  for (const c of children) out.push(c, ...descendants(c));
  return out;
}

import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { RunReport } from '../src/observe/report.js';

export interface PlanTask {
  id: string;
  agent: string;
  deps?: string[];
  input?: unknown;
}

/** Write a plan into a fresh temp dir; returns the dir and the plan path. */
export function writePlan(tasks: PlanTask[], name = 'test-plan'): { dir: string; plan: string } {
  const dir = tempDir();
  const plan = join(dir, 'plan.yaml');
  writeFileSync(plan, stringify({ name, tasks }));
  return { dir, plan };
}

/** Run a plan over the fixture agents through the real CLI; returns the exit, output and report. */
export async function runFixturePlan(tasks: PlanTask[], extra: string[] = []) {
  const { dir, plan } = writePlan(tasks);
  const reportFile = join(dir, 'report.json');
  const res = await runCli(['run', plan, '--agents', FIXTURE_AGENTS, '--runs-dir', join(dir, 'runs'), '--report', reportFile, ...extra]);
  const report = existsSync(reportFile) ? readJson<RunReport>(reportFile) : undefined;
  return { res, report, dir };
}

/** Every pid a run started: agents and reaper. */
export function runPids(report: RunReport): number[] {
  return [...report.processes.map((p) => p.pid), ...(report.kernel.reaper_pid ? [report.kernel.reaper_pid] : [])];
}
