/**
 * `agentos cluster status --cluster URL [--json] [--namespace NS] [--timeout-ms MS]`: what the cluster's
 * Redis says about its nodes and runs. Exit 0 when Redis answered, 1 when it could not be reached or
 * refused the login, 2 for bad flags. The password never reaches the output.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { clusterKeys, namespaceSchema } from './keys.js';
import { describeClusterUrl, ioredisOptions, parseClusterUrl, redact, type ClusterUrl } from './redis-url.js';
import { readClusterStatus, renderClusterStatus } from './status.js';

export const CLUSTER_STATUS_USAGE = `usage: agentos cluster status --cluster redis://[USER:PASSWORD@]HOST[:PORT][/DB] [--json] [--namespace NS] [--timeout-ms MS]
  the cluster's live nodes (id, host, pid, agents hosted, load, last heartbeat) and runs in progress
  --cluster URL     the cluster's Redis (rediss:// for TLS; the password may come from AGENTOS_REDIS_PASSWORD)
  --json            print the status as JSON (with every node's process table)
  --namespace NS    key namespace of the cluster (default aos)
  --timeout-ms MS   give up reaching Redis after MS milliseconds (default 5000)`;

/** Where the command writes: lines without trailing newlines (the CLI's Io has this shape). */
export interface StatusIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const EXIT = { ok: 0, failed: 1, input: 2 } as const;

const flagsSchema = z
  .object({
    cluster: z.string({ error: '--cluster URL is required' }).min(1, '--cluster URL is required'),
    json: z.boolean().default(false),
    namespace: namespaceSchema.default('aos'),
    'timeout-ms': z.coerce.number({ error: '--timeout-ms must be a number' }).int('--timeout-ms must be whole milliseconds').min(100, '--timeout-ms must be at least 100').max(600_000, '--timeout-ms must be at most 600000').default(5000),
  })
  .strict();

const stdio: StatusIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/**
 * Run `agentos cluster status` with its arguments (after `cluster status`).
 * @returns the exit code: 0 ok, 1 Redis unreachable or refusing, 2 bad flags.
 */
export async function clusterStatusCommand(argv: string[], io: StatusIo = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let flags: z.output<typeof flagsSchema>;
  let target: ClusterUrl;
  try {
    const { values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { cluster: { type: 'string' }, json: { type: 'boolean' }, namespace: { type: 'string' }, 'timeout-ms': { type: 'string' } } });
    const parsed = flagsSchema.safeParse(values);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? `--${issue.path.join('.')}: ` : '';
      throw new Error(issue.message.startsWith('--') ? issue.message : `${field}${issue.message}`);
    }
    flags = parsed.data;
    target = parseClusterUrl(flags.cluster, env);
  } catch (err) {
    // parseArgs quotes unknown flags' values back: keep a password out of that too.
    io.err(`agentos: ${redactArgv((err as Error).message)}\n${CLUSTER_STATUS_USAGE}`);
    return EXIT.input;
  }
  const shown = describeClusterUrl(target);
  const redis = new Redis(ioredisOptions(target, { lazyConnect: true, connectTimeout: flags['timeout-ms'], commandTimeout: flags['timeout-ms'], maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null }));
  const errors: string[] = [];
  redis.on('error', (e: Error) => errors.push(e.message));
  try {
    await redis.connect();
    const status = await readClusterStatus(redis, clusterKeys(flags.namespace), shown);
    if (flags.json) io.out(JSON.stringify(status, null, 2));
    else for (const l of renderClusterStatus(status)) io.out(l);
    return EXIT.ok;
  } catch (err) {
    const why = redact([...new Set([...errors, (err as Error).message])].join('; '), target);
    io.err(`agentos: cannot read the cluster from ${shown}: ${why}. Fix: check that redis-server runs there and that the URL, password and database are right.`);
    return EXIT.failed;
  } finally {
    redis.disconnect();
  }
}

function redactArgv(message: string): string {
  return message.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^\s'"]*)@/g, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}
