/**
 * The context manager: task-local memory, the shared blackboard, the context handed to a task (its
 * dependencies' outputs + the relevant shared memory, compressed into the agent's `context_tokens`), and
 * token accounting per agent with an optional `token_budget` the kernel enforces (kind `token_quota`).
 */
import { chargeTokens, type Acb } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import { compressContext, type CompressionResult, type ContextEntry } from './compress.js';
import { Blackboard, LocalMemory, type Writer } from './memory.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';

export interface ContextHost {
  events: EventLog;
  /** Dependency outputs of a task, by task id. */
  depOutputs(task: string): Record<string, unknown>;
  /** `context_tokens` and `token_budget` of an agent. */
  agent(name: string): { context_tokens: number; token_budget?: number | undefined } | undefined;
  /** Where shared-memory writes and token charges are recorded (the run journal); none: not recorded. */
  facts?: ContextFacts;
}

/** The context manager's facts (a durable run journals them: docs/durability.md). */
export interface ContextFacts {
  /** A shared-memory write (`deleted`: a delete); resolves once it is durable, undefined when it is already. */
  memory(key: string, value: unknown, deleted: boolean, writer: Writer): Promise<void> | undefined;
  /** Tokens charged to an agent (not awaited: a lost charge costs at most a task's tokens on resume). */
  tokens(agent: string, task: string, tokens: number): void;
}

export interface ContextRequest {
  /** Only blackboard keys starting with this. @default '' (all) */
  prefix?: string;
  /** Only these blackboard keys (overrides prefix). */
  keys?: string[];
  /** A budget below the agent's `context_tokens` (never above). */
  budget?: number;
}

export interface TaskContextStats {
  agent: string;
  requests: number;
  tokens_before: number;
  tokens_after: number;
  compressions: number;
  tokens_saved: number;
  chars_saved: number;
}

export interface ContextReport {
  tokenizer: string | null;
  tokens_before: number;
  tokens_after: number;
  compressions: number;
  tokens_saved: number;
  chars_saved: number;
  shared_keys: number;
  per_task: Record<string, TaskContextStats>;
  per_agent: Record<string, { tokens_used: number; token_budget: number | null; quota_exceeded: boolean }>;
}

function render(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return String(value);
  }
}

export class ContextManager {
  readonly board = new Blackboard();
  readonly local = new LocalMemory();
  private tok: Tokenizer | undefined;
  private readonly perTask = new Map<string, TaskContextStats>();
  private readonly used = new Map<string, number>();
  private readonly exceeded = new Set<string>();

  constructor(private readonly host: ContextHost) {}

  async tokenizer(): Promise<Tokenizer> {
    this.tok ??= await loadTokenizer();
    return this.tok;
  }

  /**
   * Write to the blackboard, stamped with the calling process and task. With a journal the answer waits
   * until the write is durable: a writer told "written" never loses it to a kernel's death.
   * Throws MemoryError E_MEMORY_FULL.
   */
  write(caller: { acb: Acb; taskId: string }, key: string, value: unknown, bytes = 0): { version: number } | Promise<{ version: number }> {
    const writer: Writer = { agent: caller.acb.agent, instance: caller.acb.instance, task: caller.taskId };
    const version = this.board.set(key, value, writer, this.host.events.now(), bytes).version;
    const durable = this.host.facts?.memory(key, value, false, writer);
    return durable ? durable.then(() => ({ version })) : { version };
  }

  /** Delete a blackboard key (recorded like a write). Resolves `{deleted}` once durable. */
  remove(caller: { acb: Acb; taskId: string }, key: string): { deleted: boolean } | Promise<{ deleted: boolean }> {
    const deleted = this.board.delete(key);
    const durable = deleted ? this.host.facts?.memory(key, null, true, { agent: caller.acb.agent, instance: caller.acb.instance, task: caller.taskId }) : undefined;
    return durable ? durable.then(() => ({ deleted })) : { deleted };
  }

  /**
   * A resumed run: shared memory and the token ledger as the journal left them (values by key with their
   * writer; tokens per agent), so budgets and context go on where they were.
   */
  restore(memory: ReadonlyMap<string, { value: unknown; writer: Writer }>, tokens: ReadonlyMap<string, number>): void {
    const t = this.host.events.now();
    for (const [key, m] of memory) this.board.set(key, m.value, m.writer, t, Buffer.byteLength(JSON.stringify(m.value ?? null)));
    for (const [agent, n] of tokens) this.used.set(agent, n);
  }

  /** The context for the calling task, within its agent's budget; charges the tokens to the agent. */
  async context(caller: { acb: Acb; taskId: string }, req: ContextRequest): Promise<CompressionResult> {
    const tok = await this.tokenizer();
    const spec = this.host.agent(caller.acb.agent);
    const limit = spec?.context_tokens ?? 4096;
    const budget = Math.min(limit, req.budget ?? limit);
    const entries: ContextEntry[] = [];
    let order = 0;
    for (const [id, out] of Object.entries(this.host.depOutputs(caller.taskId))) {
      entries.push({ id: `dep:${id}`, source: 'dependency', key: id, text: `[${id}] ${render(out)}`, order: order++, critical: true, superseded: false });
    }
    const keys = req.keys ? new Set(req.keys) : undefined;
    const prefix = req.prefix ?? '';
    for (const e of this.board.history((k) => (keys ? keys.has(k) : k.startsWith(prefix)))) {
      entries.push({ id: `mem:${e.key}@${e.version}`, source: 'memory', key: e.key, text: `${e.key}: ${render(e.value)}`, order: order++, critical: false, superseded: e.superseded, writer: e.writer });
    }
    const res = compressContext(entries, budget, tok);
    const st = this.taskStats(caller.taskId, caller.acb.agent);
    st.requests++;
    st.tokens_before += res.tokens_before;
    st.tokens_after += res.tokens_after;
    st.tokens_saved += res.tokens_before - res.tokens_after;
    st.chars_saved += res.chars_before - res.chars_after;
    if (res.compressed) {
      st.compressions++;
      this.host.events.emit({ type: 'context.compressed', task: caller.taskId, agent: caller.acb.agent, tokens_before: res.tokens_before, tokens_after: res.tokens_after, budget });
    }
    this.charge(caller.acb, caller.taskId, res.tokens_after);
    return res;
  }

  /** Count text with the BPE tokenizer and charge it to the calling agent (its output, say). */
  async chargeText(acb: Acb, task: string, text: string): Promise<number> {
    const n = (await this.tokenizer()).count(text);
    this.charge(acb, task, n);
    return n;
  }

  charge(acb: Acb, task: string, tokens: number): void {
    chargeTokens(acb, tokens);
    this.host.facts?.tokens(acb.agent, task, tokens);
    const total = (this.used.get(acb.agent) ?? 0) + tokens;
    this.used.set(acb.agent, total);
    const budget = this.host.agent(acb.agent)?.token_budget;
    if (budget !== undefined && total >= budget && !this.exceeded.has(acb.agent)) {
      this.exceeded.add(acb.agent);
      this.host.events.emit({ type: 'token.quota_exceeded', agent: acb.agent, task, used: total, budget });
    }
  }

  /** Whether an agent may take more work; a refusal names its use and budget. */
  admit(agent: string): string | undefined {
    const budget = this.host.agent(agent)?.token_budget;
    if (budget === undefined) return undefined;
    const used = this.used.get(agent) ?? 0;
    return used >= budget ? `agent ${agent} has used ${used} of its ${budget}-token budget` : undefined;
  }

  tokensUsed(agent: string): number {
    return this.used.get(agent) ?? 0;
  }

  private taskStats(task: string, agent: string): TaskContextStats {
    let s = this.perTask.get(task);
    if (!s) {
      s = { agent, requests: 0, tokens_before: 0, tokens_after: 0, compressions: 0, tokens_saved: 0, chars_saved: 0 };
      this.perTask.set(task, s);
    }
    return s;
  }

  report(): ContextReport {
    const per_task: Record<string, TaskContextStats> = {};
    const sum = { tokens_before: 0, tokens_after: 0, compressions: 0, tokens_saved: 0, chars_saved: 0 };
    for (const [id, s] of this.perTask) {
      per_task[id] = { ...s };
      sum.tokens_before += s.tokens_before;
      sum.tokens_after += s.tokens_after;
      sum.compressions += s.compressions;
      sum.tokens_saved += s.tokens_saved;
      sum.chars_saved += s.chars_saved;
    }
    const per_agent: ContextReport['per_agent'] = {};
    for (const [agent, n] of this.used) {
      per_agent[agent] = { tokens_used: n, token_budget: this.host.agent(agent)?.token_budget ?? null, quota_exceeded: this.exceeded.has(agent) };
    }
    return { tokenizer: this.tok?.name ?? null, ...sum, shared_keys: this.board.size, per_task, per_agent };
  }
}
