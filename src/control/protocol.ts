/** The control socket protocol: one JSON request line, one JSON reply line, then the server closes. */
import { z } from 'zod';
import type { Acb } from '../kernel-api/acb.js';

export const controlRequestSchema = z.object({ op: z.enum(['ps']) }).strict();
export type ControlRequest = z.output<typeof controlRequestSchema>;

export interface KernelInfo {
  kernel_pid: number;
  run_id: string;
  plan: string;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  started_at: string;
  run_dir: string;
  tasks: Record<string, number>;
}

export type ControlReply =
  | { ok: true; kernel: KernelInfo; processes: Acb[] }
  | { ok: false; error: string };

/** Longest request line accepted; anything longer is refused (a client cannot make us buffer more). */
export const MAX_REQUEST_BYTES = 4096;
