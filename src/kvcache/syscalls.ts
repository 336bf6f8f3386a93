/**
 * The KV page store's syscalls (ctx.kv.*). Sequences belong to the calling *process* (agent#instance and
 * pid): another process cannot read, extend or free them, and the kernel frees them all when the process
 * ends. After each change the pro rata charges of every owner are mirrored into their ACBs.
 */
import { setKvUsage, type Acb } from '../kernel-api/acb.js';
import type { SyscallCaller, SyscallTable } from '../kernel-api/syscalls.js';
import type { KvPageStore } from './store.js';

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
    setKvUsage(acb, 0, 0);
    return n;
  }

  refresh(): void {
    const charges = this.store().charges();
    const pages = this.store().pagesByOwner();
    for (const [k, acb] of this.acbs) {
      setKvUsage(acb, pages.get(k) ?? 0, Math.round(charges.get(k) ?? 0));
    }
  }
}

/** Run one store operation, then mirror the charges (a KvError reaches the child with its code). */
function run<T>(owners: KvOwners, f: () => T): T {
  const out = f();
  owners.refresh();
  return out;
}

export function registerKvSyscalls(table: SyscallTable, store: () => KvPageStore, owners: KvOwners): void {
  const me = (c: SyscallCaller): string => owners.note(c.acb);
  table.register('kv.create', (c, a) => {
    return run(owners, () => store().create(me(c), a.tokens));
  });
  table.register('kv.append', (c, a) => {
    return run(owners, () => store().append(me(c), a.seq, a.tokens));
  });
  table.register('kv.fork', (c, a) => {
    return run(owners, () => store().fork(me(c), a.seq));
  });
  table.register('kv.free', (c, a) => {
    run(owners, () => store().freeSeq(me(c), a.seq));
    return { freed: a.seq };
  });
  table.register('kv.read', (c, a) => {
    return run(owners, () => store().read(me(c), a.seq, a.start, a.end));
  });
  table.register('kv.stats', (c) => ({ ...store().stats(), mine: { pages: c.acb.kv_pages, bytes: c.acb.kv_bytes } }));
}
