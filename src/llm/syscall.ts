/**
 * `llm.chat`: agents ask the kernel to call the configured model. Without a configured endpoint the call
 * fails with E_NO_LLM and handlers use their deterministic path. Usage is added to the caller's ACB.
 */
import { chargeTokens } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import { SyscallError, type SyscallTable } from '../kernel-api/syscalls.js';
import { LlmError, type OpenAiChat } from './openai.js';

export function registerLlmSyscall(syscalls: SyscallTable, client: OpenAiChat | undefined, events: EventLog): void {
  syscalls.register('llm.chat', async (caller, args) => {
    if (!client) throw new SyscallError('E_NO_LLM', 'no model configured (set AGENTOS_LLM_BASE_URL and AGENTOS_LLM_MODEL)');
    try {
      const opts: { maxTokens?: number; temperature?: number } = {};
      if (args.max_tokens !== undefined) opts.maxTokens = args.max_tokens;
      if (args.temperature !== undefined) opts.temperature = args.temperature;
      const result = await client.chat(args.messages, opts);
      chargeTokens(caller.acb, result.usage.total_tokens);
      events.emit({ type: 'llm.usage', agent: caller.acb.agent, pid: caller.acb.pid, task: caller.taskId, model: result.model, tokens: result.usage.total_tokens });
      return result;
    } catch (err) {
      if (err instanceof LlmError) {
        events.emit({ type: 'llm.error', agent: caller.acb.agent, task: caller.taskId, code: err.code, message: err.message });
        throw new SyscallError(err.code, err.message, { cause: err });
      }
      throw err;
    }
  });
}
