/**
 * `llm.chat`: agents ask the kernel to call the configured model. Without a configured endpoint the call
 * fails with E_NO_LLM and handlers use their deterministic path. Usage is added to the caller's ACB.
 */
import { z } from 'zod';
import type { EventLog } from '../observe/events.js';
import { SyscallError, type SyscallTable } from '../kernel/syscalls.js';
import { chatMessageSchema, LlmError, type OpenAiChat } from './openai.js';

const args = z
  .object({
    messages: z.array(chatMessageSchema).min(1).max(100),
    max_tokens: z.number().int().min(1).max(32_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();

export function registerLlmSyscall(syscalls: SyscallTable, client: OpenAiChat | undefined, events: EventLog): void {
  syscalls.register('llm.chat', async (caller, raw) => {
    if (!client) throw new SyscallError('E_NO_LLM', 'no model configured (set AGENTOS_LLM_BASE_URL and AGENTOS_LLM_MODEL)');
    const parsed = args.safeParse(raw);
    if (!parsed.success) throw new SyscallError('E_SCHEMA', `ctx.llm: ${parsed.error.issues[0]?.path.join('.') || 'args'}: ${parsed.error.issues[0]?.message}`);
    try {
      const opts: { maxTokens?: number; temperature?: number } = {};
      if (parsed.data.max_tokens !== undefined) opts.maxTokens = parsed.data.max_tokens;
      if (parsed.data.temperature !== undefined) opts.temperature = parsed.data.temperature;
      const result = await client.chat(parsed.data.messages, opts);
      caller.acb.tokens_used += result.usage.total_tokens;
      events.emit({ type: 'llm.usage', agent: caller.acb.agent, pid: caller.acb.pid, task: caller.taskId, model: result.model, tokens: result.usage.total_tokens });
      return result;
    } catch (err) {
      if (err instanceof LlmError) {
        events.emit({ type: 'llm.error', agent: caller.acb.agent, task: caller.taskId, code: err.code, message: err.message });
        throw new SyscallError(err.code, err.message);
      }
      throw err;
    }
  });
}
