/**
 * The one table of defaults: every command, the kernel and the help texts read their values from here
 * (help texts print the computed value, so they always say what the code does). Where commands differ on
 * purpose, each difference is a named entry with the reason.
 */
import { availableParallelism } from 'node:os';

const CORES = availableParallelism();

export const DEFAULTS = {
  /** `agentos run` and the embedded kernel: attempts running at once (2 x cores, at least 4). */
  concurrency: Math.max(4, CORES * 2),
  /**
   * Goal runs (`repair`, `run --goal`, `demo`): the most attempts at once; the resource monitor moves
   * between `goalMinConcurrency` and this. Capped at 8 because each candidate runs a whole test suite.
   */
  goalConcurrency: Math.max(4, Math.min(8, CORES * 2)),
  /** A search task parked in ctx.wait lends its slot to its candidates: at least 2 at once. */
  goalMinConcurrency: 2,
  /** The resource monitor's sampling period for goal runs (ms). */
  goalMonitorIntervalMs: 500,
  /** Runs started from the dashboard page: a fixed 4 (the page is a demo surface, not a batch runner). */
  dashboardConcurrency: 4,
  /** The demos (`agentos demo`, `demo crash`, `demo repo`): a fixed 4, so they run alike on every machine. */
  demoConcurrency: 4,
  /** The quota sampler's period (ms). */
  sampleMs: 250,
  /**
   * Agent processes starting at once, across every agent of a run (process/spawn-gate.ts): 8 per core.
   * Measured, 100 agents on 2 cores under load 13-17 (docs/benchmarks.md): a limit of 2 took 15-16 s to
   * all ready, 4: 9.9 s, 8: 7.4-7.7 s, 16: 5.6-6.2 s, unlimited: 6.1-6.7 s; 16 keeps the all-ready time
   * and bounds a start-up wave (replacements for dead processes go first).
   */
  spawnConcurrency: Math.max(1, CORES * 8),
  /** Parent of the run directories. */
  runsDir: '.agentos/runs',
  /** Tasks a run may add while it runs (ctx.spawn). */
  maxDynamicTasks: 1000,
  /**
   * Single-edit candidates a repair tests at most: `auto` lets the budget grow with the search space
   * (repair/candidates.ts singleBudget); a number caps it.
   */
  maxCandidates: 'auto' as number | 'auto',
} as const;

/** Flag bounds, shared by every command that takes the flag. */
export const BOUNDS = {
  concurrency: { min: 1, max: 10_000 },
  goalConcurrency: { min: 2, max: 64 },
  sampleMs: { min: 10, max: 60_000 },
} as const;
