/** Schemas of identifiers and values shared by syscalls (the task id is the plan's own). */
import { z } from 'zod';

export { taskIdSchema } from '../config/plan.js';

/** One chat message for `llm.chat`. */
export const chatMessageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().max(200_000) }).strict();
export type ChatMessage = z.infer<typeof chatMessageSchema>;
