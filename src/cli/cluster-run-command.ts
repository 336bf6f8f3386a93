/**
 * `agentos run <plan> --cluster URL [--min-nodes N]` and `agentos resume <run-id> --cluster URL`: the
 * coordinator of a cluster run (src/runs/cluster-run.ts). Flags validated with zod (bad input: exit 2);
 * exit codes otherwise as for a local run.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from '../config/defaults.js';
import { namespaceSchema } from '../cluster/keys.js';
import { parseClusterUrl, redactUrl } from '../cluster/redis-url.js';
import { InputError } from '../errors.js';
import type { RunReport } from '../observe/report.js';
import type { ClusterSettings } from '../runs/cluster-run.js';
import { resumeOnCluster, runOnCluster } from '../runs/cluster-resume.js';
import { runExit } from '../runs/exit-codes.js';
import { parseInjection } from '../runs/injection.js';
import type { Io } from '../runs/io.js';
import { abnormalExit } from '../runs/run-kernel.js';
import { abortOn } from '../runs/signals.js';
import { attachProgress, summary } from './render.js';

export const CLUSTER_RUN_USAGE = `usage: agentos run <plan.yaml> --cluster URL [options]
       agentos resume <run-id> --cluster URL [options]
  The coordinator of a cluster run: the DAG, retries, fallback and the report stay here; attempts run on
  the nodes (agentos node). Resume takes over a run whose coordinator died (docs/cluster.md).
  --cluster URL       the cluster's Redis: redis://[USER:PASSWORD@]HOST[:PORT][/DB] or rediss://
  --min-nodes N       run: wait until N nodes are live (default 1)
  --concurrency N     most attempts at once (default: the cluster's capacity, the nodes' instances summed)
  --agents DIR        agent directory (repeatable)
  --inject A:FAULT[@N] run: fault injection, as for a local run
  --runs-dir DIR      where the coordinator writes the report and events (default ${DEFAULTS.runsDir})
  --lock-ms MS        job lock duration: a node silent this long loses its attempts (default 10000)
  --stall-ms MS       stalled-job check period (default 5000)
  --namespace NS      key namespace of the cluster (default aos)
  --allow-changed     resume: go on although the plan or agents changed
  --report FILE, --json, --quiet   as for a local run`;

const int = (flag: string, min: number, max: number) =>
  z.coerce.number({ error: `${flag} must be a number` }).int(`${flag} must be a whole number`).min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`);

const schema = z
  .object({
    cluster: z.string().min(1, '--cluster URL is required'),
    'min-nodes': int('--min-nodes', 1, 10_000).default(1),
    concurrency: int('--concurrency', BOUNDS.concurrency.min, BOUNDS.concurrency.max).optional(),
    agents: z.array(z.string().min(1)).default([]),
    inject: z.array(z.string()).default([]),
    'runs-dir': z.string().min(1).default(DEFAULTS.runsDir),
    'lock-ms': int('--lock-ms', 200, 600_000).default(10_000),
    'stall-ms': int('--stall-ms', 100, 600_000).default(5_000),
    namespace: namespaceSchema.default('aos'),
    'allow-changed': z.boolean().default(false),
    report: z.string().min(1).optional(),
    json: z.boolean().default(false),
    quiet: z.boolean().default(false),
  })
  .strict();

const FLAGS = {
  cluster: { type: 'string' },
  'min-nodes': { type: 'string' },
  concurrency: { type: 'string' },
  agents: { type: 'string', multiple: true },
  inject: { type: 'string', multiple: true },
  'runs-dir': { type: 'string' },
  'lock-ms': { type: 'string' },
  'stall-ms': { type: 'string' },
  namespace: { type: 'string' },
  'allow-changed': { type: 'boolean' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

/** Whether the argv asks for cluster mode. */
export function wantsCluster(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--cluster' || a.startsWith('--cluster='));
}

/** Parse the flags. @throws InputError E_USAGE (exit 2), passwords redacted. */
export function parseClusterRunOptions(argv: string[], command: 'run' | 'resume') {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: FLAGS }));
  } catch (err) {
    throw new InputError('E_USAGE', `${redactUrl((err as Error).message)}\n${CLUSTER_RUN_USAGE}`);
  }
  if (positionals.length !== 1) throw new InputError('E_USAGE', `agentos ${command} --cluster takes one ${command === 'run' ? 'plan file' : 'run id'}, got ${positionals.length}.\n${CLUSTER_RUN_USAGE}`);
  const r = schema.safeParse(values);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InputError('E_USAGE', `${i.message.startsWith('--') ? '' : `--${i.path.join('.')}: `}${i.message}\n${CLUSTER_RUN_USAGE}`);
  }
  if (command === 'resume' && r.data.inject.length > 0) throw new InputError('E_USAGE', `--inject is for a new run; a resumed run keeps its own.\n${CLUSTER_RUN_USAGE}`);
  if (r.data['lock-ms'] <= r.data['stall-ms'] / 2) throw new InputError('E_USAGE', `--lock-ms (${r.data['lock-ms']}) must be more than half of --stall-ms (${r.data['stall-ms']}).\n${CLUSTER_RUN_USAGE}`);
  return { ...r.data, target: parseClusterUrl(r.data.cluster), positional: positionals[0]!, injections: r.data.inject.map(parseInjection) };
}

/** `agentos run|resume … --cluster`: resolves with the exit code and the report. */
export async function clusterRunCommand(argv: string[], command: 'run' | 'resume', io: Io): Promise<{ code: number; report?: RunReport }> {
  const o = parseClusterRunOptions(argv, command);
  const progress = o.json ? io.err : io.out;
  const ctl = new AbortController();
  const signals = abortOn(ctl);
  const s: ClusterSettings = { target: o.target, namespace: o.namespace, lockMs: o['lock-ms'], stallMs: o['stall-ms'], say: io.err, signal: ctl.signal };
  try {
    const out =
      command === 'run'
        ? await runOnCluster({ plan: o.positional, agents: o.agents, runsDir: o['runs-dir'], concurrency: o.concurrency, minNodes: o['min-nodes'], injections: o.injections, reportFile: o.report }, withProgress(s, o.quiet, progress))
        : await resumeOnCluster({ runId: o.positional, agents: o.agents, runsDir: o['runs-dir'], allowChanged: o['allow-changed'], concurrency: o.concurrency, reportFile: o.report }, withProgress(s, o.quiet, progress));
    if (o.json) io.out(JSON.stringify(out.report, null, 2));
    else if (!o.quiet) for (const line of summary(out.report)) io.out(line);
    const abnormal = abnormalExit(out.kernel, signals.signalled(), io);
    return { code: abnormal ?? runExit(out.report, signals.signalled()), report: out.report };
  } finally {
    signals.remove();
  }
}

/** Progress lines of the kernel once it exists: the settings' `say` is also told when it starts. */
function withProgress(s: ClusterSettings, quiet: boolean, progress: (l: string) => void): ClusterSettings {
  if (quiet) return s;
  return { ...s, onKernel: (k) => attachProgress(k.events, progress) };
}
