/**
 * `agentos ps --cluster URL [--json] [--namespace NS]`: every node's agent processes, from the process
 * tables nodes publish with their heartbeats (src/cluster/registry.ts). Exit 0 when Redis answered, 1
 * when it could not be reached, 2 for bad flags.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { clusterKeys, namespaceSchema } from '../cluster/keys.js';
import { ioredisOptions, parseClusterUrl, redact, redactUrl } from '../cluster/redis-url.js';
import { listNodes } from '../cluster/registry.js';
import { InputError } from '../errors.js';
import type { Io } from '../runs/io.js';

export const CLUSTER_PS_USAGE = `usage: agentos ps --cluster URL [--json] [--namespace NS]
  every cluster node's agent processes (node, run, agent#instance, pid, state, RSS, task)`;

const schema = z.object({ cluster: z.string().min(1, '--cluster URL is required'), json: z.boolean().default(false), namespace: namespaceSchema.default('aos') }).strict();

export async function clusterPsCommand(argv: string[], io: Io): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { cluster: { type: 'string' }, json: { type: 'boolean' }, namespace: { type: 'string' } } }));
  } catch (err) {
    throw new InputError('E_USAGE', `${redactUrl((err as Error).message)}\n${CLUSTER_PS_USAGE}`);
  }
  const r = schema.safeParse(values);
  if (!r.success) throw new InputError('E_USAGE', `${r.error.issues[0]!.message}\n${CLUSTER_PS_USAGE}`);
  const target = parseClusterUrl(r.data.cluster);
  const redis = new Redis(ioredisOptions(target, { maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: () => null, lazyConnect: true }));
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const { nodes, problems } = await listNodes(redis, clusterKeys(r.data.namespace));
    const rows = nodes.flatMap((n) => n.record.processes.map((p) => ({ node: n.record.id, host: n.record.host, ...p })));
    if (r.data.json) io.out(JSON.stringify({ nodes: nodes.length, processes: rows, problems }, null, 2));
    else {
      io.out(`${'NODE'.padEnd(16)} ${'RUN'.padEnd(8)} ${'AGENT'.padEnd(20)} ${'PID'.padStart(7)} ${'STATE'.padEnd(8)} ${'RSS_MB'.padStart(7)} TASK`);
      for (const p of rows) io.out(`${p.node.padEnd(16)} ${(p.run ?? '-').padEnd(8)} ${`${p.agent}#${p.instance}`.padEnd(20)} ${String(p.pid).padStart(7)} ${p.state.padEnd(8)} ${p.rss_mb.toFixed(1).padStart(7)} ${p.task ?? '-'}`);
      io.out(`${nodes.length} node(s), ${rows.length} process(es)`);
      for (const m of problems) io.err(`agentos ps: ${m}`);
    }
    return 0;
  } catch (err) {
    io.err(`agentos ps: cannot read the cluster: ${redact((err as Error).message, target)}`);
    return 1;
  } finally {
    redis.disconnect();
  }
}
