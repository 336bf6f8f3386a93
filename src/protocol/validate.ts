/**
 * Kernel-side validation of everything an agent process sends. A child can lie, so nothing it sends is
 * trusted before it passes these schemas; the kernel additionally checks that a result answers the
 * request it gave that very process (see kernel/agent-process.ts).
 */
import { z } from 'zod';
import type { AgentMessage } from './messages.js';

const wireError = z.object({
  name: z.string().max(200),
  message: z.string().max(100_000),
  stack: z.string().max(200_000).optional(),
  code: z.string().max(200).optional(),
});

export const agentMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int().positive(), protocol: z.number().optional(), runtime: z.string().max(100).optional() }),
  z.object({ type: z.literal('init_failed'), error: wireError }),
  z.discriminatedUnion('ok', [
    z.object({
      type: z.literal('result'),
      requestId: z.string().min(1).max(200),
      taskId: z.string().min(1).max(500),
      ok: z.literal(true),
      // Present, even if null: a missing output is what JSON.stringify makes of an unserialisable one.
      output: z.unknown().refine((v) => v !== undefined, 'output is missing'),
    }),
    z.object({
      type: z.literal('result'),
      requestId: z.string().min(1).max(200),
      taskId: z.string().min(1).max(500),
      ok: z.literal(false),
      kind: z.enum(['exception', 'invalid_output', 'sandbox']),
      error: wireError,
    }),
  ]),
  z.object({
    type: z.literal('log'),
    requestId: z.string().max(200),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string().max(100_000),
    data: z.unknown().optional(),
  }),
  z.object({
    type: z.literal('call'),
    callId: z.number().int().nonnegative(),
    requestId: z.string().max(200),
    op: z.string().min(1).max(100),
    args: z.unknown().optional(),
  }),
]);

const KNOWN_TYPES = new Set<unknown>(['ready', 'init_failed', 'result', 'log', 'call']);

export type ParsedAgentMessage =
  | { ok: true; message: AgentMessage }
  | { ok: false; reason: string };

/**
 * Validate one message from a child (the channel already made sure it is an object with a string `type`).
 * Never throws. `ready.protocol` is optional here so that routing can refuse a missing or foreign
 * version with a clear start-up failure instead of a schema violation.
 */
export function parseAgentMessage(raw: unknown): ParsedAgentMessage {
  if (typeof raw !== 'object' || raw === null) return { ok: false, reason: 'not a JSON object' };
  const type = (raw as { type?: unknown }).type;
  if (!KNOWN_TYPES.has(type)) return { ok: false, reason: `unknown message type ${JSON.stringify(String(type)).slice(0, 100)}` };
  const parsed = agentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `${String((raw as { type?: unknown }).type)} message: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  // ready.protocol/runtime are checked by routing (a missing version is a start-up failure).
  return { ok: true, message: parsed.data as AgentMessage };
}
