/**
 * agent.yaml: the declarative description of one agent. Validated strictly: unknown keys are errors.
 * Only `name` and `handler` are required; every default is documented in docs/agents.md.
 */
import { statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { InputProblems } from './problems.js';
import { readYamlFile, schemaProblems } from './yaml-file.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const agentNameSchema = z.string().regex(NAME, 'must be 1-64 letters, digits, _ . - (starting with a letter or digit)');

export const agentSpecSchema = z
  .object({
    name: agentNameSchema,
    role: z.string().default(''),
    /**
     * Module relative to agent.yaml. Node: an ES module (.js, .mjs, or TypeScript .ts, .mts, transpiled
     * per run without a build step) whose default export is async (input, ctx) => output.
     */
    handler: z.string().min(1),
    /** Process kind. @default inferred from the handler: .js .mjs .ts .mts -> node, .py -> python */
    runtime: z.enum(['node', 'python']).optional(),
    /** Python interpreter for runtime python. @default $AGENTOS_PYTHON, else python3 on PATH */
    python: z.string().min(1).optional(),
    /** Per attempt, enforced by the kernel. @default 30000 */
    timeout_ms: z.number().int().positive().default(30_000),
    /** RSS quota of each process of this agent, in MiB. @default 256 */
    memory_mb: z.number().int().min(16).default(256),
    retry: z
      .object({
        /** Attempts including the first. @default 3 */
        max_attempts: z.number().int().min(1).max(100).default(3),
        /** Base of the exponential backoff (full jitter). @default 100 */
        backoff_ms: z.number().int().min(0).default(100),
        /** Cap of one backoff. @default 5000 */
        max_backoff_ms: z.number().int().min(0).default(5_000),
      })
      .strict()
      .prefault({}),
    /** Agent that takes the task once this agent's attempts are exhausted. */
    fallback: agentNameSchema.optional(),
    /** Processes kept warm for this agent. @default 1 */
    instances: z.number().int().min(1).max(256).default(1),
    /**
     * Warm spare processes beyond `instances`: ready, they take no task until a process of the agent
     * dies, so a crash's retry is a dispatch, not a spawn. Each costs one idle process's memory.
     * @default 0 (docs/agents.md: measured cost and gain)
     */
    standby: z.number().int().min(0).max(16).default(0),
    /** Declared tools (enforced by the sandbox). @default [] */
    tools: z.array(z.string()).default([]),
    cost: z
      .object({ tokens_per_call: z.number().int().min(0).default(0) })
      .strict()
      .prefault({}),
    /** Restart intensity: more than max_restarts within window_ms, or max_failed_starts failed starts in a row, open the circuit. */
    restart: z
      .object({
        max_restarts: z.number().int().min(0).default(10),
        window_ms: z.number().int().positive().default(10_000),
        /** Consecutive failed starts (ready timeout, load error, exit before ready) that open the circuit, however far apart. @default 3 */
        max_failed_starts: z.number().int().min(1).max(1000).default(3),
      })
      .strict()
      .prefault({}),
    /** Limit for a new process to load its handler and report ready. @default 10000 */
    ready_timeout_ms: z.number().int().positive().default(10_000),
    /**
     * Run this agent under Node's permission model (docs/sandbox.md). Paths may use $PACKAGE, $RUN_DIR,
     * $WORK, $OUT, $TMPDIR and relative paths (to agent.yaml). Absent: no sandbox.
     */
    sandbox: z
      .object({
        /** Readable paths (the package and the agent's directory are always readable). @default [] */
        fs_read: z.array(z.string().min(1)).default([]),
        /** Writable paths. @default [] */
        fs_write: z.array(z.string().min(1)).default([]),
        /** May start child processes. @default false */
        child_process: z.boolean().default(false),
        /** May start worker threads. @default false */
        worker_threads: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** Tasks (processes and threads) one agent process and all its descendants may have, where a pids cgroup exists (fork bombs fail with EAGAIN). @default 1024 */
    pids_max: z.number().int().min(16).max(1_000_000).default(1024),
    /** Cap of each agent process's log file (stdout and stderr), in MiB; beyond it the file is rotated to `.1` (one generation kept). @default 10 */
    log_max_mb: z.number().min(0.0625).max(100_000).default(10),
    /** Grace between SIGTERM and SIGKILL when the kernel ends a process. @default 500 */
    kill_grace_ms: z.number().int().min(0).default(500),
    /** Each instance's message-bus mailbox: at most `size` messages; what a full one does (see docs/messaging.md). */
    mailbox: z
      .object({
        /** @default 64 */
        size: z.number().int().min(1).max(1_000_000).default(64),
        /** block: the sender waits for room (backpressure); drop_oldest: the oldest message is dropped; reject: the send fails. @default block */
        policy: z.enum(['block', 'drop_oldest', 'reject']).default('block'),
      })
      .strict()
      .prefault({}),
    /**
     * Largest result (output or error) one attempt may return, in MiB: bigger ones fail as invalid_output
     * in the agent, and the kernel's channel refuses longer lines. @default 16
     */
    max_output_mb: z.number().int().min(1).max(256).default(16),
    /**
     * Names of kernel environment variables this agent's processes also get, on top of the default
     * allow-list (PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER, ...; docs/agents.md). @default []
     */
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')).default([]),
    /**
     * OS isolation of the agent's processes (docs/sandbox.md): `pid` runs each in a new PID namespace
     * (util-linux unshare), so the agent cannot see or signal the kernel, the reaper or other agents.
     * Node agents only; refused at start where the machine cannot do it (`agentos doctor`). @default none
     */
    isolation: z.enum(['none', 'pid']).default('none'),
    /** Token budget of the context the kernel hands each task of this agent (ctx.memory.context). @default 4096 */
    context_tokens: z.number().int().min(16).max(10_000_000).default(4096),
    /** Total tokens this agent may use in a run (context handed to it + its outputs); then its work fails with `token_quota`. Unset: no limit. */
    token_budget: z.number().int().min(1).optional(),
  })
  .strict();

export type AgentSpecInput = z.input<typeof agentSpecSchema>;
export type AgentSpecFields = z.output<typeof agentSpecSchema>;

/** A validated agent with its files resolved. */
export interface AgentSpec extends AgentSpecFields {
  /** As given, or inferred from the handler's extension. */
  runtime: Runtime;
  /** Absolute path of agent.yaml. */
  file: string;
  /** Absolute path of the handler module. */
  handlerPath: string;
}

export type Runtime = 'node' | 'python';

const PYTHON_ISOLATION = "isolation 'pid' is for Node agents (a Python agent's process title needs argv0, which the namespace's init cannot pass on). Fix: drop 'isolation' or use a Node handler.";

/** The runtime a handler's extension implies, or undefined when it implies none. */
export function runtimeOf(handler: string): Runtime | undefined {
  if (/\.(js|mjs|ts|mts)$/.test(handler)) return 'node';
  if (handler.endsWith('.py')) return 'python';
  return undefined;
}

/** Why this handler/runtime pair cannot run, or undefined. */
function runtimeProblem(handler: string, runtime: unknown): string | undefined {
  if (/\.(cts|tsx|jsx)$/.test(handler)) return `handler '${handler}' is CommonJS TypeScript or JSX, which AgentOS does not transpile. Fix: use an ES module: .ts, .mts, .js or .mjs.`;
  const implied = runtimeOf(handler);
  if (implied && (runtime === 'node' || runtime === 'python') && runtime !== implied) return `handler '${handler}' is a ${implied} module but 'runtime' is ${runtime}. Fix: drop 'runtime' (it is inferred from the handler) or point 'handler' at a ${runtime} module.`;
  return undefined;
}

const HINT = 'see docs/agents.md for every agent.yaml field and its default';

/**
 * Load and validate one agent.yaml. Every problem of the file (schema, name, handler) is reported at
 * once: throws InputProblems (codes E_YAML_SYNTAX, E_YAML_LIMIT, E_SCHEMA, E_MISSING_HANDLER) or
 * InputError (E_FILE_NOT_FOUND).
 */
export function loadAgentSpec(file: string, expectedName?: string): AgentSpec {
  const source = readYamlFile(file, 'agent.yaml');
  const res = schemaProblems(source, agentSpecSchema, 'agent', HINT);
  const problems = 'problems' in res ? [...res.problems] : [];
  // Name and handler are checked from the raw values too, so they are reported with the schema's problems.
  const raw = (source.data !== null && typeof source.data === 'object' ? source.data : {}) as Record<string, unknown>;
  if (expectedName !== undefined && typeof raw.name === 'string' && raw.name !== expectedName) {
    const pos = source.posOf(['name']);
    problems.push({ code: 'E_SCHEMA', file, line: pos?.line, col: pos?.col, message: `invalid agent: field 'name' is "${raw.name}" but the directory is "${expectedName}". Fix: make them the same.` });
  }
  if (typeof raw.handler === 'string' && raw.handler.length > 0) {
    const missing = handlerProblem(file, raw.handler);
    if (missing) {
      const pos = source.posOf(['handler']);
      problems.push({ code: 'E_MISSING_HANDLER', file, line: pos?.line, col: pos?.col, message: missing });
    }
    const mismatch = runtimeProblem(raw.handler, raw.runtime);
    if (mismatch) {
      const pos = source.posOf([raw.runtime === undefined ? 'handler' : 'runtime']);
      problems.push({ code: 'E_SCHEMA', file, line: pos?.line, col: pos?.col, message: mismatch });
    }
    if (raw.isolation === 'pid' && (raw.runtime ?? runtimeOf(raw.handler)) === 'python') {
      const pos = source.posOf(['isolation']);
      problems.push({ code: 'E_SCHEMA', file, line: pos?.line, col: pos?.col, message: PYTHON_ISOLATION });
    }
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new InputProblems(problems);
  }
  return finishSpec(file, (res as { data: AgentSpecFields }).data);
}

function resolveHandler(file: string, handler: string): string {
  return isAbsolute(handler) ? handler : resolve(dirname(file), handler);
}

/** Why the handler cannot be loaded, or undefined when it is a file. */
function handlerProblem(file: string, handler: string): string | undefined {
  const handlerPath = resolveHandler(file, handler);
  const st = statSync(handlerPath, { throwIfNoEntry: false });
  if (st?.isFile()) return undefined;
  const why = st?.isDirectory() ? 'is a directory' : 'not found';
  return `handler file ${why}: '${handler}' (looked for ${handlerPath}). Fix: point 'handler' at a module (.js, .mjs, .ts, .mts, .py) relative to agent.yaml.`;
}

/** Resolve and check the handler file of validated fields. Throws InputError E_MISSING_HANDLER, E_SCHEMA. */
export function finishSpec(file: string, fields: AgentSpecFields): AgentSpec {
  const missing = handlerProblem(file, fields.handler);
  if (missing) throw new InputError('E_MISSING_HANDLER', `${file}: ${missing}`, { file });
  const mismatch = runtimeProblem(fields.handler, fields.runtime);
  if (mismatch) throw new InputError('E_SCHEMA', `${file}: ${mismatch}`, { file });
  const runtime = fields.runtime ?? runtimeOf(fields.handler) ?? 'node';
  if (fields.isolation === 'pid' && runtime === 'python') throw new InputError('E_SCHEMA', `${file}: ${PYTHON_ISOLATION}`, { file });
  return { ...fields, runtime: fields.runtime ?? runtimeOf(fields.handler) ?? 'node', file, handlerPath: resolveHandler(file, fields.handler) };
}
