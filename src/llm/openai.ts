/**
 * An adapter for OpenAI-compatible chat-completion endpoints (POST {base}/chat/completions). Configured
 * from AGENTOS_LLM_BASE_URL / AGENTOS_LLM_MODEL / AGENTOS_LLM_API_KEY. It runs in the kernel, not in the
 * agent: the key never reaches a child, and the token usage the endpoint reports is charged to the
 * calling process's ACB by the kernel (a child cannot under-report it).
 */
import { z } from 'zod';
import { AgentOSError, type ErrorCode } from '../errors.js';
import type { ChatMessage } from '../kernel-api/ids.js';

export type { ChatMessage };

export type LlmErrorCode = Extract<ErrorCode, 'E_LLM_CONFIG' | 'E_LLM_TIMEOUT' | 'E_LLM_UNREACHABLE' | 'E_LLM_HTTP' | 'E_LLM_PROTOCOL'>;

export class LlmError extends AgentOSError {
  declare readonly code: LlmErrorCode;
  readonly status: number | undefined;
  constructor(code: LlmErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'LlmError';
    this.status = options.status;
  }
}

export interface LlmConfig {
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  /** Per request. @default 30000 */
  timeoutMs: number;
}


export interface ChatResult {
  content: string;
  model: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const responseSchema = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
  usage: z
    .object({ prompt_tokens: z.number().int().min(0).default(0), completion_tokens: z.number().int().min(0).default(0), total_tokens: z.number().int().min(0).optional() })
    .optional(),
});

/** The configuration from the environment, or undefined when no endpoint is set. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig | undefined {
  const baseUrl = env.AGENTOS_LLM_BASE_URL?.trim();
  if (!baseUrl) return undefined;
  try {
    new URL(baseUrl);
  } catch {
    throw new LlmError('E_LLM_CONFIG', `AGENTOS_LLM_BASE_URL '${baseUrl}' is not a URL (e.g. http://127.0.0.1:8080/v1)`);
  }
  const model = env.AGENTOS_LLM_MODEL?.trim();
  if (!model) throw new LlmError('E_LLM_CONFIG', 'AGENTOS_LLM_BASE_URL is set but AGENTOS_LLM_MODEL is not: name the model to use');
  const timeout = Number(env.AGENTOS_LLM_TIMEOUT_MS ?? 30_000);
  return { baseUrl: baseUrl.replace(/\/+$/, ''), model, apiKey: env.AGENTOS_LLM_API_KEY || undefined, timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 30_000 };
}

export class OpenAiChat {
  constructor(readonly config: LlmConfig) {}

  async chat(messages: ChatMessage[], opts: { maxTokens?: number; temperature?: number } = {}): Promise<ChatResult> {
    const url = `${this.config.baseUrl}/chat/completions`;
    const body = JSON.stringify({ model: this.config.model, messages, max_tokens: opts.maxTokens ?? 512, temperature: opts.temperature ?? 0 });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method: 'POST', headers, body, signal });
      text = await res.text();
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new LlmError('E_LLM_TIMEOUT', `no answer from ${url} within ${this.config.timeoutMs} ms`, { cause: err });
      throw new LlmError('E_LLM_UNREACHABLE', `cannot reach ${url}: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`, { cause: err });
    }
    if (!res.ok) {
      throw new LlmError('E_LLM_HTTP', `${url} answered HTTP ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new LlmError('E_LLM_PROTOCOL', `${url} answered with something that is not JSON: ${text.slice(0, 120)}`, { cause: err });
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new LlmError('E_LLM_PROTOCOL', `${url} answered without a chat completion (${issue?.path.join('.') || 'body'}: ${issue?.message})`);
    }
    const usage = parsed.data.usage ?? { prompt_tokens: 0, completion_tokens: 0 };
    return {
      content: parsed.data.choices[0]!.message.content ?? '',
      model: parsed.data.model ?? this.config.model,
      usage: { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens ?? usage.prompt_tokens + usage.completion_tokens },
    };
  }
}
