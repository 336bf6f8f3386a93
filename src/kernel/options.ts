/** The kernel's options (defaults from src/config/defaults.ts). */
import type { AgentRegistry } from '../config/registry.js';
import type { AttemptRunner } from '../kernel-api/attempt-runner.js';
import type { FactSink } from '../kernel-api/scheduling.js';
import type { Journal } from '../journal/journal.js';
import type { JournalSetup, ResumeSetup } from './durable.js';
import type { KvStoreOptions } from '../kvcache/store.js';
import type { OpenAiChat } from '../llm/openai.js';
import type { MonitorOptions } from '../monitor/resource-monitor.js';
import type { Injection, TaskInjection } from '../scheduler/scheduler.js';

export interface KernelOptions {
  registry: AgentRegistry;
  /** Parent of the run directory (`<runsDir>/<run_id>`). */
  runsDir: string;
  runId?: string;
  /** Attempts running at once. @default DEFAULTS.concurrency (2 x CPU cores, at least 4) */
  concurrency?: number;
  injections?: readonly Injection[];
  /** Faults for single tasks by id, committed inside the child (stress runs). */
  taskInjections?: ReadonlyMap<string, TaskInjection>;
  /** Quota sampler period (ms). @default DEFAULTS.sampleMs (250) */
  sampleIntervalMs?: number;
  /** @default DEFAULTS.maxDynamicTasks (1000) */
  maxDynamicTasks?: number;
  /** Write events.jsonl. @default true */
  eventLog?: boolean;
  /** Apply agent.yaml `sandbox:` sections (Node permission model). @default true */
  sandbox?: boolean;
  /** Extra sandbox path variables (PACKAGE, RUN_DIR, WORK, OUT, TMPDIR are set by the kernel). */
  sandboxVars?: Record<string, string>;
  /** Model client for `llm.chat`; undefined: from AGENTOS_LLM_* ; null: none. */
  llm?: OpenAiChat | null;
  /** Resource-aware concurrency between min and max; off when absent. */
  monitor?: MonitorOptions;
  /** Write trace.json (Chrome Trace Event format) when the run finishes. @default true */
  trace?: boolean;
  /** KV-cache page store settings (block size, payload width, capacity, prefix caching). */
  kv?: KvStoreOptions;
  /**
   * How agent processes are contained (docs/containment.md): `auto` uses the cgroups this machine
   * allows, else the /proc walk; `proc-walk` never touches cgroups; `off` only process groups (tests of
   * the old behaviour). @default auto
   */
  containment?: 'auto' | 'proc-walk' | 'off';
  /** The per-user runtime directory: containment records its cgroups there so the next kernel can reap them after a crash. */
  runtimeDir?: string;
  /** Where the scheduler's facts go before they take effect. @default the run journal (unless `journal: false`) */
  facts?: FactSink;
  /**
   * The run journal (`<runDir>/journal.jsonl`, docs/durability.md): `false` keeps none (embedded use,
   * benchmarks of the journal's cost); a JournalSetup names the plan file and the CLI options for the
   * header. @default {} (a journal, plan kept as JSON)
   */
  journal?: false | JournalSetup;
  /** Take over a run from its journal (agentos resume): the lock held, the journal open, its facts folded. */
  resume?: ResumeSetup;
  /**
   * Where attempts run instead of this machine's agent pools (cluster mode: src/cluster/cluster-runner.ts).
   * Given the kernel's syscall table, which a remote runner answers nodes' calls from. No local pool is
   * started then. @default the local runner
   */
  attemptRunner?: AttemptRunner;
  /** Make the journal of a new run (cluster mode: a Redis stream). @default `<runDir>/journal.jsonl` */
  createJournal?: () => Promise<Journal>;
}
