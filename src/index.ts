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
// Resolves with the RunReport, honours options.signal (AbortSignal), installs no process-wide signal
// handler, and leaves no process behind when it resolves (docs/api.md).
export { runPlan, type RunPlanOptions } from './runs/run-plan.js';
export { AgentOSError, InputError } from './errors.js';
