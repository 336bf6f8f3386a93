/**
 * `agentos demo kv-cache [--agents N] [--json]`: N agent processes start from the same 2,048-token system
 * prompt (prefix caching shares its pages), add private tokens, fork continuations and diverge
 * (copy-on-write). Prints the page store's stats taken before shutdown; --json prints them as one object.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { DEFAULTS } from '../config/defaults.js';
import { EXAMPLES } from '../paths.js';
import { runCommand, type Io } from './run-command.js';

export const KV_USAGE = `usage: agentos demo kv-cache [--agents N] [--prefix TOKENS] [--block-size TOKENS] [--json]
  --agents N           agent processes (1-64, default 4)
  --prefix TOKENS      shared system-prompt length (default 2048)
  --block-size TOKENS  tokens per page (default 16)
  --json               print the stats as one JSON object`;

const int = (flag: string, min: number, max: number, def: number) =>
  z.coerce.number({ error: `${flag} takes a whole number` }).int(`${flag} takes a whole number`).min(min, `${flag} must be at least ${min}`).max(max, `${flag} must be at most ${max}`).default(def);

const schema = z.object({
  agents: int('--agents', 1, 64, 4),
  prefix: int('--prefix', 0, 100_000, 2048),
  blockSize: int('--block-size', 1, 4096, 16),
  json: z.boolean().default(false),
});

export async function kvDemo(args: string[], io: Io): Promise<number> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args, strict: true, options: { agents: { type: 'string' }, prefix: { type: 'string' }, 'block-size': { type: 'string' }, json: { type: 'boolean' } } }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${KV_USAGE}`);
  }
  const parsed = schema.safeParse({ agents: values.agents, prefix: values.prefix, blockSize: values['block-size'], json: values.json });
  if (!parsed.success) throw new InputError('E_USAGE', `${parsed.error.issues[0]!.message}\n${KV_USAGE}`);
  const o = parsed.data;
  // The agent's instance count is the demo's N: write its agent.yaml (and the plan) into a temp dir.
  const dir = join(tmpdir(), `agentos-kv-demo-${process.pid}`);
  mkdirSync(join(dir, 'agents', 'kv_demo'), { recursive: true });
  const handler = join(EXAMPLES, 'kv-cache', 'agents', 'kv_demo', 'handler.js');
  writeFileSync(join(dir, 'agents', 'kv_demo', 'agent.yaml'), JSON.stringify({ name: 'kv_demo', handler, instances: o.agents, timeout_ms: 60_000 }));
  const tasks = Array.from({ length: o.agents }, (_, i) => ({ id: `agent-${i + 1}`, agent: 'kv_demo', input: { prefix: o.prefix, private: 40, forks: 2, continuation: 24, seed: i + 1 } }));
  writeFileSync(join(dir, 'plan.yaml'), JSON.stringify({ name: 'kv-cache-demo', tasks }));
  if (!o.json) io.out(`AgentOS KV-cache demo: ${o.agents} agent processes share a ${o.prefix}-token prompt prefix, fork 2 continuations each and diverge.`);
  const { code, report } = await runCommand(
    {
      plan: join(dir, 'plan.yaml'),
      agents: [join(dir, 'agents')],
      concurrency: Math.max(4, o.agents),
      inject: [],
      injections: [],
      report: undefined,
      json: false,
      runsDir: DEFAULTS.runsDir,
      sampleMs: DEFAULTS.sampleMs,
      quiet: true,
      kv: { blockSize: o.blockSize },
    },
    io,
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
  const st = report.kv?.before_shutdown;
  const pids = [...new Set(report.tasks.map((t) => (t.output as { pid?: number } | null)?.pid).filter((p): p is number => typeof p === 'number'))];
  const result = {
    agents: o.agents,
    processes: pids.length,
    pids,
    prefix_tokens: o.prefix,
    block_size: st?.block_size ?? o.blockSize,
    page_bytes: st?.page_bytes ?? null,
    sequences: st?.sequences ?? 0,
    logical_pages: st?.logical_pages ?? 0,
    physical_pages: st?.physical_pages ?? 0,
    logical_bytes: st?.logical_bytes ?? 0,
    physical_bytes: st?.physical_bytes ?? 0,
    bytes_saved: st?.bytes_saved ?? 0,
    cow_copies: st?.cow_copies ?? 0,
    prefix_hits: st?.prefix_hits ?? 0,
    prefix_lookups: st?.prefix_lookups ?? 0,
    prefix_hit_rate: st?.prefix_hit_rate ?? 0,
    evictions: st?.evictions ?? 0,
    pages_after_shutdown: report.kv?.after_shutdown.physical_pages ?? 0,
    status: report.status,
    run_dir: report.run_dir,
  };
  if (o.json) {
    io.out(JSON.stringify(result));
    return code;
  }
  const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(2)} MiB`;
  io.out('');
  io.out(`processes          ${result.processes} (pids ${pids.join(', ')})`);
  io.out(`sequences          ${result.sequences} (each agent: 1 base + 2 forks)`);
  io.out(`logical pages      ${result.logical_pages} (${mib(result.logical_bytes)}): what the page tables name`);
  io.out(`physical pages     ${result.physical_pages} (${mib(result.physical_bytes)}): what is really held`);
  io.out(`bytes saved        ${mib(result.bytes_saved)} by sharing`);
  io.out(`copy-on-write      ${result.cow_copies} page copies (forks writing into a shared tail page)`);
  io.out(`prefix cache       ${result.prefix_hits}/${result.prefix_lookups} block lookups hit (${(result.prefix_hit_rate * 100).toFixed(1)}%)`);
  io.out(`evictions          ${result.evictions}`);
  io.out(`after shutdown     ${result.pages_after_shutdown} pages referenced (every process freed its own)`);
  return code;
}
