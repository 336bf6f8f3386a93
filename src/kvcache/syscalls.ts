/**
 * The KV page store's syscalls (ctx.kv.*). Sequences belong to the calling *process* (agent#instance and
 * pid): another process cannot read, extend or free them, and the kernel frees them all when the process
 * ends. After each change the pro rata charges of every owner are mirrored into their ACBs.
 */
import { z } from 'zod';
import type { Acb } from '../kernel/acb.js';
import { SyscallError, type SyscallCaller, type SyscallTable } from '../kernel/syscalls.js';
import { KvError, type KvPageStore } from './store.js';

const MAX_TOKENS_PER_CALL = 1_000_000;
const tokens = z.array(z.number().int().min(0).max(0x7fffffff)).max(MAX_TOKENS_PER_CALL);
const seq = z.string().min(1).max(100);
const schemas = {
  create: z.object({ tokens: tokens.default([]) }).strict(),
  append: z.object({ seq, tokens }).strict(),
  one: z.object({ seq }).strict(),
  read: z.object({ seq, start: z.number().int().min(0).optional(), end: z.number().int().min(0).optional() }).strict(),
};

function parse<T extends z.ZodType>(op: string, schema: T, args: unknown): z.output<T> {
  const r = schema.safeParse(args ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw new SyscallError('E_SCHEMA', `ctx.kv.${op}: ${i?.path.join('.') || 'arguments'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

export function ownerKey(acb: Acb): string {
  return `${acb.agent}#${acb.instance}@${acb.pid}`;
}

/** Owners with sequences, to mirror their charges into their ACBs. */
export class KvOwners {
  private readonly acbs = new Map<string, Acb>();

  constructor(private readonly store: () => KvPageStore) {}

  note(acb: Acb): string {
    const k = ownerKey(acb);
    this.acbs.set(k, acb);
    return k;
  }

  /** A process ended: free everything it held. Returns the number of sequences freed. */
  release(acb: Acb): number {
    const k = ownerKey(acb);
    if (!this.acbs.has(k)) return 0;
    const n = this.store().releaseOwner(k);
    this.acbs.delete(k);
    this.refresh();
    acb.kv_pages = 0;
    acb.kv_bytes = 0;
    return n;
  }

  refresh(): void {
    const charges = this.store().charges();
    const pages = this.store().pagesByOwner();
    for (const [k, acb] of this.acbs) {
      acb.kv_bytes = Math.round(charges.get(k) ?? 0);
      acb.kv_pages = pages.get(k) ?? 0;
    }
  }
}

function run<T>(owners: KvOwners, f: () => T): T {
  try {
    const out = f();
    owners.refresh();
    return out;
  } catch (err) {
    if (err instanceof KvError) throw new SyscallError(err.code, err.message);
    throw err;
  }
}

export function registerKvSyscalls(table: SyscallTable, store: () => KvPageStore, owners: KvOwners): void {
  const me = (c: SyscallCaller): string => owners.note(c.acb);
  table.register('kv.create', (c, args) => {
    const a = parse('create', schemas.create, args);
    return run(owners, () => store().create(me(c), a.tokens));
  });
  table.register('kv.append', (c, args) => {
    const a = parse('append', schemas.append, args);
    return run(owners, () => store().append(me(c), a.seq, a.tokens));
  });
  table.register('kv.fork', (c, args) => {
    const a = parse('fork', schemas.one, args);
    return run(owners, () => store().fork(me(c), a.seq));
  });
  table.register('kv.free', (c, args) => {
    const a = parse('free', schemas.one, args);
    run(owners, () => store().freeSeq(me(c), a.seq));
    return { freed: a.seq };
  });
  table.register('kv.read', (c, args) => {
    const a = parse('read', schemas.read, args);
    return run(owners, () => store().read(me(c), a.seq, a.start, a.end));
  });
  table.register('kv.stats', (c) => ({ ...store().stats(), mine: { pages: c.acb.kv_pages, bytes: c.acb.kv_bytes } }));
}
