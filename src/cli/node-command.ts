/**
 * `agentos node --cluster URL [--agents DIR]… [--id NAME] [--capacity-mb M]`: a long-running cluster node
 * (src/cluster/node.ts). SIGINT/SIGTERM drain it: no new work, running attempts finish, every process it
 * started ends, it leaves the registry; a second signal ends running attempts at once (they run again on
 * another node). Exit 0 after a drain, 1 when it could not join, 2 for bad flags.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ClusterNode } from '../cluster/node.js';
import { namespaceSchema, nodeIdSchema } from '../cluster/keys.js';
import { parseClusterUrl, redactUrl } from '../cluster/redis-url.js';
import { InputError } from '../errors.js';
import { RunContainment } from '../kernel/run-containment.js';
import { EventLog } from '../kernel-api/events.js';
import { loadAgents } from '../runs/prepare.js';
import type { Io } from '../runs/io.js';

const WORKER_DIR = fileURLToPath(new URL('../../worker/', import.meta.url));

export const NODE_USAGE = `usage: agentos node --cluster redis://[USER:PASSWORD@]HOST[:PORT][/DB] [options]
  A cluster node: hosts agent processes for every run announced on the cluster (docs/cluster.md).
  --agents DIR        agent directory to host (repeatable; default: the built-in agents)
  --id NAME           node id (default: <host>-<pid>); letters, digits, _ . -
  --capacity-mb M     host only the agents whose instances x memory_mb fit in M MiB together
  --dir DIR           where run logs and work directories go (default .agentos/nodes/<id>)
  --namespace NS      key namespace of the cluster (default aos)
  --sample-ms N       quota sampler period (default 250)
  SIGINT/SIGTERM drain the node (running attempts finish); a second signal ends them at once.`;

const int = (flag: string, min: number, max: number) =>
  z.coerce.number({ error: `${flag} must be a number` }).int(`${flag} must be a whole number`).min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`);

const schema = z
  .object({
    cluster: z.string({ error: '--cluster URL is required' }).min(1, '--cluster URL is required'),
    agents: z.array(z.string().min(1)).default([]),
    id: nodeIdSchema.optional(),
    'capacity-mb': int('--capacity-mb', 1, 16_777_216).optional(),
    dir: z.string().min(1).optional(),
    namespace: namespaceSchema.default('aos'),
    'sample-ms': int('--sample-ms', 20, 60_000).default(250),
  })
  .strict();

/** Parse the flags of `agentos node`. @throws InputError E_USAGE (exit 2), the password redacted. */
export function parseNodeOptions(argv: string[]) {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { cluster: { type: 'string' }, agents: { type: 'string', multiple: true }, id: { type: 'string' }, 'capacity-mb': { type: 'string' }, dir: { type: 'string' }, namespace: { type: 'string' }, 'sample-ms': { type: 'string' } } }));
  } catch (err) {
    throw new InputError('E_USAGE', `${redactUrl((err as Error).message)}\n${NODE_USAGE}`);
  }
  const r = schema.safeParse(values);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InputError('E_USAGE', `${i.path.length > 0 && !i.message.startsWith('--') ? `--${i.path.join('.')}: ` : ''}${i.message}\n${NODE_USAGE}`);
  }
  const target = parseClusterUrl(r.data.cluster);
  const id = r.data.id ?? `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40)}-${process.pid}`;
  return { ...r.data, target, id };
}

/** The agents a node hosts: those of its --agents directories (all agents when none), fitted into --capacity-mb. */
export function hostedAgents(registry: ReturnType<typeof loadAgents>, dirs: readonly string[], capacityMb: number | undefined): { agents: string[]; left: string[] } {
  const roots = dirs.map((d) => resolve(d));
  const names = registry.names().filter((n) => roots.length === 0 || roots.some((r) => resolve(registry.get(n).file).startsWith(`${r}/`)));
  const agents: string[] = [];
  const left: string[] = [];
  let used = 0;
  for (const n of names.sort()) {
    const s = registry.get(n);
    const need = s.instances * s.memory_mb;
    if (capacityMb !== undefined && used + need > capacityMb) left.push(n);
    else {
      agents.push(n);
      used += need;
    }
  }
  return { agents, left };
}

/** Run a node until SIGINT/SIGTERM. Resolves with the exit code. */
export async function nodeCommand(argv: string[], io: Io): Promise<number> {
  const o = parseNodeOptions(argv);
  const registry = loadAgents(o.agents);
  const { agents, left } = hostedAgents(registry, o.agents, o['capacity-mb']);
  if (left.length > 0) io.err(`agentos node ${o.id}: --capacity-mb ${o['capacity-mb']}: not hosting ${left.join(', ')} (instances x memory_mb do not fit)`);
  if (agents.length === 0) throw new InputError('E_USAGE', `agentos node: no agent to host (looked in ${o.agents.join(', ') || 'the built-in agents'}). Fix: pass --agents DIR with agent directories, or a larger --capacity-mb.`);
  const node = new ClusterNode({
    target: o.target,
    id: o.id,
    registry,
    agents,
    capacityMb: o['capacity-mb'] ?? null,
    dir: resolve(o.dir ?? join('.agentos', 'nodes', o.id)),
    workerDir: WORKER_DIR,
    namespace: o.namespace,
    cells: (runId) => new RunContainment(`${o.id}-${runId}`, 'auto', undefined, new EventLog()),
    sampleMs: o['sample-ms'],
    say: io.err,
  });
  let signals = 0;
  let wake!: () => void;
  const stopping = new Promise<void>((r) => (wake = r));
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    io.err(`agentos node ${o.id}: ${sig}: ${signals === 1 ? 'draining (running attempts finish; again to end them now)' : 'ending running attempts now'}`);
    if (signals === 2) void node.stop(true);
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const rec = await node.start();
    io.err(`agentos node ${o.id}: joined the cluster (pid ${process.pid}, hosting ${rec.agents.map((a) => `${a.name}x${a.instances}`).join(', ')})`);
    await stopping;
    await node.stop(signals > 1);
    io.err(`agentos node ${o.id}: drained, every process ended`);
    // A client still reconnecting to a Redis that is gone must not keep a drained node alive.
    setTimeout(() => process.exit(0), 1000).unref();
    return 0;
  } catch (err) {
    io.err(`agentos node ${o.id}: ${redactUrl((err as Error).message)}`);
    await node.stop(true).catch(() => undefined);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
