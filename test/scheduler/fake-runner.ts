/**
 * An AttemptRunner with no process behind it, for testing every scheduling rule in-process: each agent
 * has a number of slots (its "instances") and a script that decides each attempt's outcome. Attempts
 * resolve on the next macrotask unless the script holds them (a deferred the test resolves).
 */
import type { AgentSpec } from '../../src/config/agent-spec.js';
import { AgentOSError } from '../../src/errors.js';
import type { AcquireOptions, AttemptHooks, AttemptLease, AttemptOutcome, AttemptRunner, AttemptSpec } from '../../src/kernel-api/attempt-runner.js';
import type { SchedulerFact } from '../../src/kernel-api/scheduling.js';
import { Scheduler, type SchedulerHost, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { EventLog, type TimedEvent } from '../../src/kernel-api/events.js';

export type Script = (a: AttemptSpec, agent: string) => AttemptOutcome | Promise<AttemptOutcome>;

interface Waiter {
  resolve: (l: AttemptLease) => void;
  reject: (e: Error) => void;
}

export class FakeRunner implements AttemptRunner {
  readonly acquires: Array<{ agent: string; retry: boolean }> = [];
  readonly runs: Array<{ agent: string; task: string; attempt: number; inject: string | undefined }> = [];
  readonly cancelled: string[] = [];
  running = 0;
  maxRunning = 0;
  private readonly free = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly open = new Set<string>();
  private pid = 1000;

  constructor(
    private readonly script: Script,
    private readonly slots: Record<string, number> = {},
  ) {}

  /** Open an agent's circuit: waiting and future acquires reject with E_CIRCUIT_OPEN. */
  openCircuit(agent: string): void {
    this.open.add(agent);
    for (const w of this.waiters.get(agent)?.splice(0) ?? []) w.reject(new AgentOSError('E_CIRCUIT_OPEN', `agent ${agent} circuit open`));
  }

  acquire(agent: string, opts: AcquireOptions): Promise<AttemptLease> {
    this.acquires.push({ agent, retry: opts.retry });
    if (this.open.has(agent)) return Promise.reject(new AgentOSError('E_CIRCUIT_OPEN', `agent ${agent} circuit open`));
    const left = this.free.get(agent) ?? this.slots[agent] ?? 1;
    if (left > 0) {
      this.free.set(agent, left - 1);
      return Promise.resolve(this.lease(agent));
    }
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(agent) ?? [];
      this.waiters.set(agent, list);
      // A retried task waits at the head of the line, as the local pools do.
      if (opts.retry) list.unshift({ resolve, reject });
      else list.push({ resolve, reject });
    });
  }

  private lease(agent: string): AttemptLease {
    const pid = ++this.pid;
    let released = false;
    let cancel: (() => void) | undefined;
    const place = { agent, instance: 1, pid };
    return {
      place,
      run: async (a: AttemptSpec, hooks: AttemptHooks): Promise<AttemptOutcome> => {
        hooks.started(place);
        this.runs.push({ agent, task: a.taskId, attempt: a.attempt, inject: a.inject });
        this.running++;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        try {
          const cancelled = new Promise<AttemptOutcome>((resolve) => (cancel = () => resolve({ ok: false, kind: 'cancelled', message: 'cancelled' })));
          const done = Promise.resolve(this.script(a, agent)).then(async (o) => {
            await new Promise((r) => setImmediate(r));
            return o;
          });
          return await Promise.race([done, cancelled]);
        } finally {
          this.running--;
        }
      },
      cancel: () => {
        this.cancelled.push(agent);
        cancel?.();
      },
      release: () => {
        if (released) return;
        released = true;
        const w = this.waiters.get(agent)?.shift();
        if (w) w.resolve(this.lease(agent));
        else this.free.set(agent, (this.free.get(agent) ?? 0) + 1);
      },
    };
  }
}

/** An agent spec with only what the scheduler reads. */
export function spec(name: string, o: { attempts?: number; backoff?: number; fallback?: string; budget?: number } = {}): AgentSpec {
  return {
    name,
    retry: { max_attempts: o.attempts ?? 1, backoff_ms: o.backoff ?? 0, max_backoff_ms: 50 },
    timeout_ms: 1000,
    memory_mb: 64,
    fallback: o.fallback,
    token_budget: o.budget,
  } as unknown as AgentSpec;
}

/** A scheduler over a fake runner with these agents; records every event and fact. */
export function harness(agents: AgentSpec[], script: Script, o: Partial<SchedulerOptions> & { slots?: Record<string, number>; admit?: (agent: string) => string | undefined } = {}) {
  const byName = new Map(agents.map((a) => [a.name, a]));
  const chain = (agent: string): AgentSpec[] => {
    const out: AgentSpec[] = [];
    for (let a = byName.get(agent); a; a = a.fallback ? byName.get(a.fallback) : undefined) out.push(a);
    if (out.length === 0) throw new AgentOSError('E_UNKNOWN_AGENT', `unknown agent '${agent}'`);
    return out;
  };
  const runner = new FakeRunner(script, o.slots);
  const facts: SchedulerFact[] = [];
  const events: TimedEvent[] = [];
  const log = new EventLog();
  log.on((e) => events.push(e));
  const host: SchedulerHost = { runner, chain, hasAgent: (a) => byName.has(a), facts: { record: (f) => facts.push(f) }, ...(o.admit ? { admit: o.admit } : {}) };
  const s = new Scheduler(host, log, { concurrency: o.concurrency ?? 8, injections: o.injections ?? [], taskInjections: o.taskInjections, maxDynamicTasks: o.maxDynamicTasks ?? 100 });
  return { s, runner, facts, events };
}

/** A promise with its resolve function, to hold an attempt until the test lets it go. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
