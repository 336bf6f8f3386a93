/**
 * The services agents reach by syscalls: the message bus, the context manager and the KV page store.
 * Each is made on its first use, so a run that never calls them pays nothing on the dispatch path. They
 * see the rest of the kernel only through the narrow hosts given here.
 */
import { MessageBus } from '../bus/bus.js';
import { registerBusSyscalls } from '../bus/syscalls.js';
import type { AgentRegistry } from '../config/registry.js';
import { ContextManager } from '../context/manager.js';
import { registerContextSyscalls } from '../context/syscalls.js';
import type { Acb, ProcessTable } from '../kernel-api/acb.js';
import type { EventLog } from '../kernel-api/events.js';
import type { SyscallTable } from '../kernel-api/syscalls.js';
import { KvPageStore, type KvStats, type KvStoreOptions } from '../kvcache/store.js';
import { KvOwners, registerKvSyscalls } from '../kvcache/syscalls.js';
import type { TaskGraph } from '../scheduler/task-graph.js';
import type { FactInput } from '../journal/facts.js';
import type { ContextFacts } from '../context/manager.js';

/** The context manager's facts, appended to the run journal (a write is acknowledged once durable). */
function contextFacts(j: NonNullable<ServicesOptions['journal']>): ContextFacts {
  return {
    memory: (key, value, deleted, writer) => {
      j.append({ type: 'memory.write', key, value, deleted, writer });
      return j.durable();
    },
    tokens: (agent, task, tokens) => j.append({ type: 'token.charge', agent, task, tokens }),
  };
}

export interface ServicesOptions {
  registry: AgentRegistry;
  events: EventLog;
  table: ProcessTable;
  graph: TaskGraph;
  kv: KvStoreOptions | undefined;
  syscalls: SyscallTable;
  /** The run journal: shared-memory writes and token charges are facts too. */
  journal?: { append(fact: FactInput): void; durable(): Promise<void> | undefined } | undefined;
}

export class Services {
  private busP: MessageBus | undefined;
  private contextP: ContextManager | undefined;
  private kvP: KvPageStore | undefined;
  private readonly kvOwners = new KvOwners(() => this.kv);
  private peakKv: KvStats | undefined;

  constructor(private readonly o: ServicesOptions) {
    registerBusSyscalls(o.syscalls, () => this.bus);
    registerContextSyscalls(o.syscalls, () => this.context);
    registerKvSyscalls(o.syscalls, () => this.kv, this.kvOwners);
  }

  private agent(name: string) {
    return this.o.registry.has(name) ? this.o.registry.get(name) : undefined;
  }

  get bus(): MessageBus {
    this.busP ??= new MessageBus({ events: this.o.events, agent: (n) => this.agent(n), task: (id) => this.o.graph.get(id), live: () => this.o.table.live() });
    return this.busP;
  }

  get context(): ContextManager {
    this.contextP ??= new ContextManager({
      events: this.o.events,
      depOutputs: (task) => {
        const rec = this.o.graph.get(task);
        return rec ? this.o.graph.depOutputs(rec) : {};
      },
      agent: (n) => this.agent(n),
      ...(this.o.journal ? { facts: contextFacts(this.o.journal) } : {}),
    });
    return this.contextP;
  }

  get kv(): KvPageStore {
    this.kvP ??= new KvPageStore(this.o.kv);
    return this.kvP;
  }

  /** Token budget: a refusal when the agent spent it (only once the context manager exists). */
  admit(agent: string): string | undefined {
    return this.contextP?.admit(agent);
  }

  /** After a successful attempt of an agent with a token_budget: its output counts against the budget too. */
  async chargeOutput(acb: Acb, task: string, output: unknown): Promise<void> {
    let text: string;
    try {
      text = typeof output === 'string' ? output : (JSON.stringify(output) ?? '');
    } catch {
      text = String(output);
    }
    await this.context.chargeText(acb, task, text);
  }

  /** A process ended (exit or crash): free what it held. */
  processEnded(acb: Acb): void {
    this.busP?.processEnded(acb);
    if (this.kvP) {
      const n = this.kvOwners.release(acb);
      if (n > 0) this.o.events.emit({ type: 'kv.released', agent: acb.agent, instance: acb.instance, pid: acb.pid, sequences: n });
    }
  }

  /** The run is ending: mail not received becomes dead letters; the KV figures at their fullest are kept. */
  close(): void {
    this.busP?.close();
    if (this.kvP) this.peakKv = this.kvP.stats();
  }

  /** The report sections of the services that were used. */
  report() {
    return {
      bus: this.busP?.report(),
      context: this.contextP?.report(),
      kv: this.kvP ? { before_shutdown: this.peakKv ?? this.kvP.stats(), after_shutdown: this.kvP.stats() } : undefined,
    };
  }
}
