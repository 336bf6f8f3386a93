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

const brand = z.literal(1);

export const agentMessageSchema = z.discriminatedUnion('type', [
  z.object({ ag: brand, type: z.literal('ready'), pid: z.number().int().positive() }),
  z.object({ ag: brand, type: z.literal('init_failed'), error: wireError }),
  z.discriminatedUnion('ok', [
    z.object({
      ag: brand,
      type: z.literal('result'),
      requestId: z.string().min(1).max(200),
      taskId: z.string().min(1).max(500),
      ok: z.literal(true),
      output: z.unknown(),
    }),
    z.object({
      ag: brand,
      type: z.literal('result'),
      requestId: z.string().min(1).max(200),
      taskId: z.string().min(1).max(500),
      ok: z.literal(false),
      kind: z.enum(['exception', 'invalid_output', 'sandbox']),
      error: wireError,
    }),
  ]),
  z.object({
    ag: brand,
    type: z.literal('log'),
    requestId: z.string().max(200),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    msg: z.string().max(100_000),
    data: z.unknown().optional(),
  }),
  z.object({
    ag: brand,
    type: z.literal('call'),
    callId: z.number().int().nonnegative(),
    requestId: z.string().max(200),
    op: z.string().min(1).max(100),
    args: z.unknown().optional(),
  }),
]);

export type ParsedAgentMessage =
  | { ok: true; message: AgentMessage }
  | { ok: false; reason: string };

/** Validate one raw message from a child. Never throws. */
export function parseAgentMessage(raw: unknown): ParsedAgentMessage {
  if (typeof raw !== 'object' || raw === null || (raw as { ag?: unknown }).ag !== 1) {
    return { ok: false, reason: 'foreign message (no agentos brand)' };
  }
  const parsed = agentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `malformed ${String((raw as { type?: unknown }).type)} message: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: parsed.data as AgentMessage };
}
