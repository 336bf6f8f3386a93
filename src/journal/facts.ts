/**
 * The facts of a run journal: everything a new kernel needs to continue a run that an old one left.
 * One fact per line of journal.jsonl (docs/durability.md), a union tagged by a string `type`.
 *
 * Every fact carries `seq` (0, 1, 2, … with no gap: the journal assigns it) and `ts_ms` (wall-clock
 * milliseconds since the epoch: facts of one run span processes, so a monotonic clock would not do).
 * Callers hand the journal a `FactInput` (a fact without `seq`/`ts_ms`).
 *
 * Schemas are strict where we write (unknown keys mean a newer format or a bug) and are checked on
 * read, the boundary where bytes from disk (or Redis) come back in.
 */
import { z } from 'zod';
import { FAILURE_KINDS, FAULTS } from '../protocol/messages.js';

/** Bumped when a fact changes meaning; a reader refuses a journal of a newer format. */
export const JOURNAL_FORMAT = 1 as const;

/** Attempt outcome kinds: the attempt failure kinds plus `interrupted` (the kernel stopped or died). */
export const OUTCOME_KINDS = [...FAILURE_KINDS, 'interrupted'] as const;
export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex sha-256');
const nonNeg = z.number().int().min(0);
const pid = z.number().int().min(0);

/** One hashed file: path relative to the agent directory (or absolute outside it). */
export const hashedFileSchema = z.object({ path: z.string().min(1), sha256 }).strict();

/** An agent as the run started with it; `hash` covers agent.yaml, the handler and its relative imports. */
export const agentRecordSchema = z
  .object({
    name: z.string().min(1),
    /** Directory holding agent.yaml. */
    dir: z.string().min(1),
    hash: sha256,
    /** Per-file hashes, agent.yaml first, then the handler, then what it imports: says which file changed. */
    files: z.array(hashedFileSchema).min(2),
  })
  .strict();

export const injectionRecordSchema = z
  .object({ agent: z.string().min(1), fault: z.enum(FAULTS), attempt: z.number().int().min(1).optional() })
  .strict();

/** The options a resumed run must reuse. Goal/repair options are kept as given (their schema lives in src/cli). */
export const runOptionsRecordSchema = z
  .object({
    injections: z.array(injectionRecordSchema),
    concurrency: z.number().int().min(1),
    /** `--goal` text of a goal run, or null. */
    goal: z.string().nullable().default(null),
    /** Goal and repair options (repo, test command, max candidates, sandbox, …), or null. */
    repair: z.record(z.string(), z.unknown()).nullable().default(null),
    out: z.string().nullable().default(null),
    apply: z.boolean().default(false),
  })
  .strict();

const base = { seq: nonNeg, ts_ms: nonNeg };
const taskId = z.string().min(1);

export const runHeaderSchema = z
  .object({
    ...base,
    type: z.literal('run.header'),
    format: z.literal(JOURNAL_FORMAT),
    run_id: z.string().min(1),
    /** The kernel that started the run. */
    pid,
    plan: z
      .object({
        /** Plan file, or null for a plan built in code (a goal run). */
        path: z.string().nullable(),
        text: z.string(),
        sha256,
        /**
         * The plan's name and number of tasks: a resume whose journal holds every plan task builds the
         * plan from the journal without parsing `text` (seconds for a big YAML plan). Absent in older journals.
         */
        name: z.string().optional(),
        tasks: nonNeg.optional(),
      })
      .strict(),
    agents: z.array(agentRecordSchema),
    options: runOptionsRecordSchema,
  })
  .strict();

export const taskAddedSchema = z
  .object({
    ...base,
    type: z.literal('task.added'),
    task: taskId,
    agent: z.string().min(1),
    deps: z.array(taskId),
    input: z.unknown(),
    /** Added at run time (ctx.spawn or a repair workflow), not from the plan. */
    dynamic: z.boolean(),
    /** The task whose handler added it; null for plan tasks. */
    spawned_by: taskId.nullable(),
    timeout_ms: z.number().int().positive().nullable().default(null),
    memory_mb: z.number().int().positive().nullable().default(null),
  })
  .strict();

export const attemptStartedSchema = z
  .object({
    ...base,
    type: z.literal('attempt.started'),
    task: taskId,
    /** The task's attempt number, 1-based, across fallbacks. */
    attempt: z.number().int().min(1),
    agent: z.string().min(1),
    instance: nonNeg,
    pid,
  })
  .strict();

/** An attempt that ended without a result (a success is `task.succeeded`). */
export const attemptOutcomeSchema = z
  .object({
    ...base,
    type: z.literal('attempt.outcome'),
    task: taskId,
    attempt: z.number().int().min(1),
    agent: z.string().min(1),
    kind: z.enum(OUTCOME_KINDS),
    message: z.string(),
    pid,
  })
  .strict();

export const taskSucceededSchema = z
  .object({ ...base, type: z.literal('task.succeeded'), task: taskId, attempt: z.number().int().min(1), agent: z.string().min(1), output: z.unknown() })
  .strict();

export const taskFailedSchema = z
  .object({ ...base, type: z.literal('task.failed'), task: taskId, kind: z.enum(OUTCOME_KINDS), message: z.string() })
  .strict();

/** Why a task was skipped: its own `cancelled`, a `dependency` that ended badly, or the run `interrupted`. */
export const SKIP_KINDS = ['cancelled', 'dependency', 'interrupted'] as const;
export type SkipKind = (typeof SKIP_KINDS)[number];

export const taskSkippedSchema = z
  .object({
    ...base,
    type: z.literal('task.skipped'),
    task: taskId,
    kind: z.enum(SKIP_KINDS),
    reason: z.string(),
    /** For kind `dependency`: the dependency that failed or was skipped. */
    cause: taskId.nullable().default(null),
  })
  .strict();

export const memoryWriteSchema = z
  .object({
    ...base,
    type: z.literal('memory.write'),
    key: z.string().min(1),
    /** The new value; `deleted: true` (value null) records a delete. */
    value: z.unknown(),
    deleted: z.boolean().default(false),
    writer: z.object({ agent: z.string().min(1), instance: nonNeg, task: taskId }).strict(),
  })
  .strict();

export const tokenChargeSchema = z
  .object({ ...base, type: z.literal('token.charge'), agent: z.string().min(1), task: taskId.nullable().default(null), tokens: nonNeg })
  .strict();

/** A kernel stopping (Ctrl-C, SIGTERM) or, on resume, the record of one that died: `at` in epoch ms. */
export const runInterruptedSchema = z
  .object({ ...base, type: z.literal('run.interrupted'), at: nonNeg, by_pid: pid, signal: z.string().nullable().default(null) })
  .strict();

/** A kernel that took the run over (`agentos resume`). */
export const runResumedSchema = z.object({ ...base, type: z.literal('run.resumed'), at: nonNeg, by_pid: pid }).strict();

export const runFinishedSchema = z
  .object({ ...base, type: z.literal('run.finished'), status: z.enum(['succeeded', 'failed', 'interrupted']), duration_ms: nonNeg })
  .strict();

export const factSchema = z.discriminatedUnion('type', [
  runHeaderSchema,
  taskAddedSchema,
  attemptStartedSchema,
  attemptOutcomeSchema,
  taskSucceededSchema,
  taskFailedSchema,
  taskSkippedSchema,
  memoryWriteSchema,
  tokenChargeSchema,
  runInterruptedSchema,
  runResumedSchema,
  runFinishedSchema,
]);

export type Fact = z.output<typeof factSchema>;
export type FactType = Fact['type'];
export type FactOf<T extends FactType> = Extract<Fact, { type: T }>;
export type RunHeader = FactOf<'run.header'>;
export type AgentRecord = z.output<typeof agentRecordSchema>;
export type RunOptionsRecord = z.output<typeof runOptionsRecordSchema>;

/** What a caller appends: a fact without the journal's `seq` and `ts_ms`; defaulted fields may be left out. */
export type FactInput = DistributiveOmit<z.input<typeof factSchema>, 'seq' | 'ts_ms'>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
