/**
 * The public entry of the `agentos` package (package.json `exports["."]`). Handler authors type their
 * code with it and need no build step:
 *
 *   import type { Handler, AgentContext, TaskInfo } from 'agentos';
 *   const handle: Handler<{ n: number }, { doubled: number }> = async (input, ctx) => ({ doubled: input.n * 2 });
 *   export default handle;
 *
 * Everything here is a type except what the section below adds. docs/api.md describes each one.
 */
export type {
  Address,
  AgentContext,
  AgentInfo,
  BusMessage,
  CancelResult,
  ChatMessage,
  ChatRequest,
  ChatResult,
  CompressionResult,
  ContextOptions,
  FanOutResult,
  Handler,
  Json,
  KvStats,
  KvStatsReply,
  LogFn,
  LogLevel,
  MemoryEntry,
  MemoryListing,
  PackedEntry,
  ReceiveManyOptions,
  ReceiveOptions,
  SendResult,
  Sender,
  SpawnResult,
  SpawnTask,
  SyscallFailure,
  TaskInfo,
  TaskState,
  TaskSummary,
  WaitOptions,
  WaitResult,
  Writer,
} from './api/context.js';
export type { AgentReport, RunReport, RunStatus, TaskReport } from './observe/report.js';
export type { FailureKind, Fault } from './protocol/messages.js';
export type { ErrorCode } from './errors.js';

// ---- runPlan: running a plan from code --------------------------------------------------------
// RESERVED for the lead (issue 13): `export { runPlan } from './runs/run-plan.js';` goes here once the
// run logic has moved into src/runs/. Contract: runPlan(plan, opts) resolves with the RunReport,
// honours opts.signal (AbortSignal), installs no process-wide signal handlers, and leaves no process
// behind when it resolves. Not implemented on this branch.
