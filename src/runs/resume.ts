/**
 * Preparing `agentos resume`: find the run directory, take its run lock (a live kernel holds it: refused;
 * two resumes cannot race), open and fold the journal, refuse a run that is complete or whose plan or
 * agent files changed since it started (unless allowed), and build the kernel options that continue it
 * with the options it started with (concurrency, --inject, a goal run's sandbox variables and monitor).
 * Every refusal is an InputError (exit 2) saying why and what to do.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Plan } from '../config/plan.js';
import type { AgentRegistry } from '../config/registry.js';
import { AgentOSError, InputError } from '../errors.js';
import { completeness } from '../journal/completeness.js';
import type { Fact, RunHeader } from '../journal/facts.js';
import { FileJournal, JOURNAL_FILE } from '../journal/file-journal.js';
import { changedFiles, hashAgent, hashPlan } from '../journal/hash.js';
import { replay, type RunState } from '../journal/replay.js';
import { acquireRunLock, type RunLock } from '../journal/run-lock.js';
import { agentDirsOf } from '../kernel/durable.js';
import type { KernelOptions } from '../kernel/kernel.js';
import type { MonitorOptions } from '../monitor/resource-monitor.js';
import { loadAgents } from './prepare.js';

export interface ResumeOptions {
  /** A run directory, or a run id under `runsDir`. */
  run: string;
  runsDir: string;
  /** Agent directories; none: the ones the run used (from its journal). */
  agents: readonly string[];
  allowChanged: boolean;
}

export interface PreparedResume {
  runDir: string;
  runId: string;
  plan: Plan;
  state: RunState;
  /** Kernel options (the lock and journal are held in `resume`; release() if the kernel never runs). */
  kernel: Omit<KernelOptions, 'runsDir'> & { runsDir: string };
  /** What changed since the run started (allowed with --allow-changed), for a warning. */
  changed: string[];
  /** Give the lock and journal back (when the kernel is not run after all). */
  release(): Promise<void>;
}

/** Goal runs keep what their kernel needs to go on in the header's `repair` options (runs/goal.ts). */
interface GoalKernelRecord {
  sandboxVars?: Record<string, string>;
  monitor?: MonitorOptions;
}

/** Find the run directory: a path to one, or a run id under runsDir. */
export function findRunDir(run: string, runsDir: string): string {
  const candidates = [resolve(run), resolve(runsDir, run)];
  for (const c of candidates) if (existsSync(join(c, JOURNAL_FILE)) && statSync(c).isDirectory()) return c;
  throw new InputError('E_FILE_NOT_FOUND', `${run}: no run with a journal there (looked for ${candidates.map((c) => join(c, JOURNAL_FILE)).join(' and ')}). Fix: pass a run directory or a run id (with --runs-dir if the runs are elsewhere).`, { file: run });
}

/**
 * Take the run over for a resume. Throws InputError: E_FILE_NOT_FOUND, E_RUN_LOCKED (live kernel),
 * E_RUN_COMPLETE, E_RUN_CHANGED, E_JOURNAL_CORRUPT (a damaged journal).
 */
export function prepareResume(o: ResumeOptions): PreparedResume {
  const runDir = findRunDir(o.run, o.runsDir);
  let lock: RunLock;
  try {
    lock = acquireRunLock(runDir);
  } catch (err) {
    throw asInput(err);
  }
  let journal: FileJournal | undefined;
  try {
    const opened = FileJournal.open(runDir);
    journal = opened.journal;
    const facts: Fact[] = opened.facts;
    const state = replay(facts);
    const header = state.header;
    const verdict = completeness(state);
    // Complete without `run.finished`: the kernel died after the last task but before the report - resuming writes it.
    if (verdict.complete && state.finished !== null) {
      throw new InputError('E_RUN_COMPLETE', `${runDir}: the run is complete: every task is final for its own reasons (${verdict.final.length} task(s); status ${state.finished?.status ?? 'unknown'}). Nothing to resume. Fix: start a new run with agentos run.`, { file: runDir });
    }
    const registry = loadAgents(o.agents.length > 0 ? o.agents : agentDirsOf(header.agents));
    const changed = changedSince(header, registry);
    if (changed.length > 0 && !o.allowChanged) {
      throw new InputError('E_RUN_CHANGED', `${runDir}: changed since the run started: ${changed.join('; ')}. A resumed run must run the code it started with. Fix: restore those files, or pass --allow-changed to go on with the new ones.`, { file: runDir });
    }
    const goal = (header.options.repair ?? {}) as GoalKernelRecord;
    const plan = resumedPlan(state);
    const j = journal;
    return {
      runDir,
      runId: header.run_id,
      plan,
      state,
      changed,
      kernel: {
        registry,
        runsDir: resolve(runDir, '..'),
        runId: header.run_id,
        concurrency: header.options.concurrency,
        injections: header.options.injections.map((i) => ({ agent: i.agent, fault: i.fault, attempt: i.attempt })),
        ...(goal.sandboxVars ? { sandboxVars: goal.sandboxVars } : {}),
        ...(goal.monitor ? { monitor: goal.monitor } : {}),
        resume: { journal: j, lock, facts },
      },
      release: async () => {
        await j.close().catch(() => undefined);
        lock.release();
      },
    };
  } catch (err) {
    void journal?.close().catch(() => undefined);
    lock.release();
    throw asInput(err);
  }
}

/** The plan as it started (its tasks that never reached the journal are added on resume), then the journal's dynamic tasks. */
export function resumedPlan(state: RunState): Plan {
  const started = startedPlan(state.header, state);
  const inPlan = new Set(started.tasks.map((t) => t.id));
  return {
    name: started.name,
    tasks: [...started.tasks, ...[...state.tasks.values()].filter((t) => !inPlan.has(t.id)).map((t) => ({ id: t.id, agent: t.agent, deps: t.deps, input: t.input }))],
  } as Plan;
}

/** What changed: the plan file and each agent's files (by content hash), as readable phrases. */
export function changedSince(header: RunHeader, registry: AgentRegistry): string[] {
  const out: string[] = [];
  if (header.plan.path !== null) {
    let now: string | undefined;
    try {
      now = hashPlan(readFileSync(header.plan.path));
    } catch {
      now = undefined;
    }
    if (now !== header.plan.sha256) out.push(`plan ${header.plan.path}${now === undefined ? ' (gone)' : ''}`);
  }
  for (const a of header.agents) {
    if (!registry.has(a.name)) {
      out.push(`agent ${a.name} (not found in the agent directories)`);
      continue;
    }
    let files: string[];
    try {
      const h = hashAgent(registry.get(a.name));
      files = h.hash === a.hash ? [] : changedFiles(a, h);
      if (h.hash !== a.hash && files.length === 0) files = ['its files'];
    } catch (err) {
      files = [`unreadable: ${(err as Error).message}`];
    }
    if (files.length > 0) out.push(`agent ${a.name} (${files.join(', ')})`);
  }
  return out;
}

/**
 * The plan the run started with: from the journal when it holds every plan task (the header says how
 * many), else from the header's copy of its text (YAML, or JSON: a goal run's, or a JSON plan file).
 */
function startedPlan(h: RunHeader, state: RunState): { name: string; tasks: Plan['tasks'] } {
  if (h.plan.name !== undefined && h.plan.tasks !== undefined) {
    const tasks: Plan['tasks'] = [];
    for (const t of state.tasks.values()) if (!t.dynamic) tasks.push({ id: t.id, agent: t.agent, deps: t.deps, input: t.input });
    if (tasks.length === h.plan.tasks) return { name: h.plan.name, tasks };
  }
  const p = parsePlanText(h.plan.text);
  const tasks = Array.isArray(p?.tasks) ? (p.tasks as Array<{ id: string; agent: string; deps?: string[]; input?: unknown }>).map((t) => ({ id: t.id, agent: t.agent, deps: t.deps ?? [], input: t.input })) : [];
  return { name: typeof p?.name === 'string' ? p.name : (h.plan.path ?? 'plan'), tasks: tasks as Plan['tasks'] };
}

function parsePlanText(text: string): { name?: unknown; tasks?: unknown } | null {
  try {
    // JSON is YAML, but JSON.parse reads a big plan in milliseconds where the YAML parser takes seconds.
    if (/^\s*\{/.test(text)) {
      try {
        return JSON.parse(text) as { name?: unknown; tasks?: unknown } | null;
      } catch {
        // YAML flow style that is not strict JSON: the YAML parser below
      }
    }
    return parseYaml(text) as { name?: unknown; tasks?: unknown } | null;
  } catch {
    return null; // unreadable: its tasks come from the journal alone
  }
}

/** Refusals from the journal library are bad input for the command (exit 2). */
function asInput(err: unknown): unknown {
  if (err instanceof AgentOSError && !(err instanceof InputError) && (err.code === 'E_RUN_LOCKED' || err.code === 'E_JOURNAL_CORRUPT' || err.code === 'E_JOURNAL_IO')) {
    return new InputError(err.code, err.message, { file: err.file, cause: err });
  }
  return err;
}
