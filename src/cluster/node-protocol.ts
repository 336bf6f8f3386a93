/**
 * What a node and the coordinator say to each other besides job data and results (keys.ts): the job
 * progress a node reports when a process takes an attempt, and the syscall RPC (./rpc.ts). Every payload
 * is zod-validated where it is read.
 */
import { z } from 'zod';
import { CLUSTER_FORMAT, nodeIdSchema, runIdSchema } from './keys.js';

/** `job.updateProgress` of a node when one of its processes starts the attempt. */
export const jobProgressSchema = z
  .object({
    node: nodeIdSchema,
    pid: z.number().int().min(0),
    instance: z.number().int().min(0),
  })
  .strict();
export type JobProgress = z.output<typeof jobProgressSchema>;

/** A syscall a node forwards to the coordinator (stream `{aos:R}:rpc`, field `f`). */
export const rpcRequestSchema = z
  .object({
    format: z.literal(CLUSTER_FORMAT),
    /** Unique per request (node id + counter): the reply carries it back. */
    id: z.string().min(1).max(128),
    run_id: runIdSchema,
    node: nodeIdSchema,
    op: z.string().min(1).max(64),
    args: z.unknown(),
    /** Who calls, as the node's kernel knows it (never what the child claims). */
    caller: z
      .object({
        agent: z.string().min(1).max(64),
        instance: z.number().int().min(0),
        pid: z.number().int().min(0),
        task: z.string().min(1).max(128),
        attempt: z.number().int().min(1),
      })
      .strict(),
  })
  .strict();
export type RpcRequest = z.output<typeof rpcRequestSchema>;

/** The coordinator's answer (stream `{aos:R}:rpc:reply:<node>`, field `f`). */
export const rpcReplySchema = z
  .object({
    format: z.literal(CLUSTER_FORMAT),
    id: z.string().min(1).max(128),
    ok: z.boolean(),
    value: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).strict().optional(),
  })
  .strict();
export type RpcReply = z.output<typeof rpcReplySchema>;

/**
 * Syscalls answered by the coordinator's kernel: they need the run's state (the DAG, shared and
 * task-local memory, token ledger). The bus, the KV-cache page store and `llm.chat` stay on the node.
 */
export const FORWARDED_OPS = ['task.spawn', 'task.wait', 'task.cancel', 'memory.get', 'memory.set', 'memory.delete', 'memory.list', 'memory.local.get', 'memory.local.set', 'memory.local.keys', 'memory.context', 'tokens.count'] as const;
