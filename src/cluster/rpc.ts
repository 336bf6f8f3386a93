/**
 * Syscalls that need the run's state, node → coordinator (docs/cluster.md "Syscalls across nodes").
 *
 * A node appends a request to the run's stream `{aos:R}:rpc`; the coordinator reads it in the consumer
 * group `coordinator` (so a coordinator that takes over first answers what its predecessor read but never
 * acknowledged), runs it through its own kernel's SyscallTable - the same code as a local call, with the
 * caller the node named - and appends the reply to the node's stream `{aos:R}:rpc:reply:<node>`, then
 * acknowledges. Requests are answered concurrently (a `task.wait` may block for minutes). The caller is
 * accepted only while the coordinator has that very attempt in flight: a node cannot act for an attempt
 * that was lost or finished.
 *
 * Why streams and not pub/sub: a reply survives a reconnect of the node (it reads on from its last id),
 * and a request survives the coordinator's death. Why not BullMQ jobs: a syscall is not work to place,
 * and a reply must reach one waiting caller quickly.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newAcb } from '../kernel-api/acb.js';
import { SyscallError, type SyscallTable } from '../kernel-api/syscalls.js';
import { errorCode, isErrorCode } from '../errors.js';
import { CLUSTER_FORMAT, type RunKeys } from './keys.js';
import { rpcReplySchema, rpcRequestSchema, type RpcReply, type RpcRequest } from './node-protocol.js';

const GROUP = 'coordinator';
const REPLY_MAXLEN = 10_000;

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

/** The coordinator's side. `inFlight(task, attempt)`: whether that attempt is running now. */
export class RpcServer {
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Requests refused (bad payload, a caller not in flight). */
  refused = 0;

  constructor(
    /** A client of its own: it blocks in XREADGROUP. */
    private readonly blocking: Redis,
    private readonly redis: Redis,
    private readonly keys: RunKeys,
    private readonly syscalls: SyscallTable,
    private readonly inFlight: (task: string, attempt: number) => boolean,
    private readonly say: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.rpc, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    // First what a predecessor read but never acknowledged ('0'), then new requests ('>').
    let from = '0';
    while (!this.stopped) {
      let res: StreamReply;
      try {
        res = (await this.blocking.xreadgroup('GROUP', GROUP, 'coordinator', 'COUNT', 100, 'BLOCK', 1000, 'STREAMS', this.keys.rpc, from)) as StreamReply;
      } catch (err) {
        if (this.stopped) return;
        this.say(`agentos coordinator: reading syscalls from nodes: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const entries = res?.[0]?.[1] ?? [];
      if (from === '0' && entries.length === 0) from = '>';
      for (const [id, fields] of entries) void this.handle(id, fields);
    }
  }

  private async handle(id: string, fields: string[]): Promise<void> {
    let req: RpcRequest | undefined;
    let reply: RpcReply;
    try {
      req = rpcRequestSchema.parse(JSON.parse(fields[1] ?? 'null'));
      if (req.run_id !== this.keys.runId) throw new SyscallError('E_PERMISSION', `request for run ${req.run_id}`);
      const c = req.caller;
      if (!this.inFlight(c.task, c.attempt)) throw new SyscallError('E_PERMISSION', `attempt ${c.attempt} of task '${c.task}' is not running (lost, finished or cancelled)`);
      const acb = newAcb(c.agent, c.instance, c.pid, 0, 0);
      acb.task = c.task;
      const value = await this.syscalls.invoke(req.op, { acb, taskId: c.task, attempt: c.attempt }, req.args);
      reply = { format: CLUSTER_FORMAT, id: req.id, ok: true, value };
    } catch (err) {
      this.refused += req ? 0 : 1;
      reply = { format: CLUSTER_FORMAT, id: req?.id ?? 'invalid', ok: false, error: { code: errorCode(err), message: (err as Error).message } };
    }
    try {
      if (req) await this.redis.xadd(this.keys.rpcReply(req.node), 'MAXLEN', '~', REPLY_MAXLEN, '*', 'f', JSON.stringify(reply));
      await this.redis.xack(this.keys.rpc, GROUP, id);
      await this.redis.xdel(this.keys.rpc, id);
    } catch (err) {
      this.say(`agentos coordinator: answering a syscall of node ${req?.node ?? '?'}: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** The node's side: `call` resolves with the coordinator's answer or rejects with its SyscallError. */
export class RpcClient {
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private readonly prefix = randomBytes(4).toString('hex');
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastId = '0-0';

  constructor(
    private readonly blocking: Redis,
    private readonly redis: Redis,
    private readonly keys: RunKeys,
    private readonly node: string,
    private readonly say: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    // Replies start after what is there now: older ones answered a predecessor of this node.
    const last = (await this.redis.xrevrange(this.keys.rpcReply(this.node), '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    this.lastId = last[0]?.[0] ?? '0-0';
    this.loop = this.run();
  }

  call(op: string, caller: RpcRequest['caller'], args: unknown): Promise<unknown> {
    if (this.stopped) return Promise.reject(new SyscallError('E_SHUTTING_DOWN', 'the node is leaving this run'));
    const id = `${this.node}.${this.prefix}.${++this.seq}`;
    const req: RpcRequest = { format: CLUSTER_FORMAT, id, run_id: this.keys.runId, node: this.node, op, args, caller };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.redis.xadd(this.keys.rpc, '*', 'f', JSON.stringify(req)).catch((err: Error) => {
        this.pending.delete(id);
        reject(new SyscallError('E_CLUSTER', `could not reach the coordinator: ${err.message}`));
      });
    });
  }

  private async run(): Promise<void> {
    const key = this.keys.rpcReply(this.node);
    while (!this.stopped) {
      let res: StreamReply;
      try {
        res = (await this.blocking.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', key, this.lastId)) as StreamReply;
      } catch (err) {
        if (this.stopped) return;
        this.say(`agentos node: reading syscall replies: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [id, fields] of res?.[0]?.[1] ?? []) {
        this.lastId = id;
        const r = rpcReplySchema.safeParse(safeJson(fields[1]));
        if (!r.success) continue;
        const p = this.pending.get(r.data.id);
        if (!p) continue;
        this.pending.delete(r.data.id);
        if (r.data.ok) p.resolve(r.data.value);
        else p.reject(new SyscallError(isErrorCode(r.data.error?.code) ? r.data.error.code : 'E_CLUSTER', r.data.error?.message ?? 'refused by the coordinator'));
      }
    }
  }

  /** Stop reading; calls still waiting are refused (their attempts are over). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.pending.values()) p.reject(new SyscallError('E_SHUTTING_DOWN', 'the node left this run'));
    this.pending.clear();
    await this.loop;
  }
}

function safeJson(s: string | undefined): unknown {
  try {
    return JSON.parse(s ?? 'null');
  } catch {
    return null;
  }
}
