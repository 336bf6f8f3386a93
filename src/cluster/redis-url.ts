/**
 * The `--cluster` URL: where the cluster's Redis is and how to log in to it.
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]      plain TCP
 *   rediss://[[USER]:PASSWORD@]HOST[:PORT][/DB]     TLS (Node's CA store; NODE_EXTRA_CA_CERTS adds a private CA)
 *
 * HOST is a name, an IPv4 address or a bracketed IPv6 address (`redis://[::1]:6380`); PORT defaults to
 * 6379, DB to 0. USER and PASSWORD are percent-encoded as in any URL (`p%40ss` for `p@ss`). A URL on a
 * command line is visible to every local user in `ps`: the password can come from the environment
 * instead (`AGENTOS_REDIS_PASSWORD`), used when the URL carries none.
 *
 * The password never appears in a message: `redactUrl` / `redact` replace it with `***`, and errors
 * about a URL are built from the redacted text.
 */
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { InputError } from '../errors.js';

/** Environment variable holding the Redis password when the URL has none. */
export const REDIS_PASSWORD_ENV = 'AGENTOS_REDIS_PASSWORD';

export const DEFAULT_REDIS_PORT = 6379;

/** A parsed, validated `--cluster` URL. `password` is the only secret; never log this object whole. */
export const clusterUrlSchema = z
  .object({
    tls: z.boolean(),
    /** Host name or IP address, IPv6 without brackets. */
    host: z.string().min(1).max(253),
    port: z.number().int().min(1).max(65_535),
    /** Redis ACL user (Redis 6+); undefined logs in as `default`. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** Logical database (SELECT). Redis ships 16 (0-15); a server configured with more accepts more. */
    db: z.number().int().min(0).max(1_000_000),
    /** Where the password came from, for messages (`url`, `env`) or null when there is none. */
    password_from: z.enum(['url', 'env']).nullable(),
  })
  .strict();
export type ClusterUrl = z.output<typeof clusterUrlSchema>;

const USAGE = 'expected redis://[USER:PASSWORD@]HOST[:PORT][/DB] or rediss://… (TLS), e.g. redis://127.0.0.1:6379';

/**
 * Parse and validate a `--cluster` URL.
 * @param text the URL as given.
 * @param env where `AGENTOS_REDIS_PASSWORD` is read from when the URL has no password.
 * @throws InputError `E_USAGE` naming what is wrong and how to fix it (the password redacted).
 */
export function parseClusterUrl(text: string, env: NodeJS.ProcessEnv = process.env): ClusterUrl {
  const shown = redactUrl(text);
  const bad = (what: string): InputError => new InputError('E_USAGE', `--cluster '${shown}': ${what}. Fix: ${USAGE}.`);
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`scheme '${u.protocol.replace(/:$/, '')}' is not redis or rediss`);
  // URL keeps IPv6 hosts in brackets; sockets want them bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '') throw bad('no host');
  const port = u.port === '' ? DEFAULT_REDIS_PORT : Number(u.port);
  if (port === 0) throw bad('port 0 is not a port');
  const path = u.pathname;
  let db = 0;
  if (path !== '' && path !== '/') {
    const m = /^\/(\d{1,7})$/.exec(path);
    if (!m) throw bad(`path '${path}' is not a database number (/0, /1, …)`);
    db = Number(m[1]);
  }
  if (u.search !== '') throw bad('query parameters are not supported (TLS is chosen by rediss://, the database by /DB)');
  if (u.hash !== '') throw bad("a '#' fragment is not allowed (percent-encode '#' in a password as %23)");
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = u.username === '' ? undefined : decodeURIComponent(u.username);
    password = u.password === '' ? undefined : decodeURIComponent(u.password);
  } catch {
    throw bad('the user or password has a broken percent-encoding');
  }
  let from: ClusterUrl['password_from'] = password === undefined ? null : 'url';
  const envPassword = env[REDIS_PASSWORD_ENV];
  if (password === undefined && envPassword !== undefined && envPassword !== '') {
    password = envPassword;
    from = 'env';
  }
  if (username !== undefined && password === undefined) throw bad(`user '${username}' has no password (give USER:PASSWORD@ or set ${REDIS_PASSWORD_ENV})`);
  const parsed = clusterUrlSchema.safeParse({ tls: u.protocol === 'rediss:', host, port, username, password, db, password_from: from });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bad(`${issue.path.join('.') || 'url'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The URL of a parsed target without its password: for logs, messages, `cluster status`. */
export function describeClusterUrl(u: ClusterUrl): string {
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const auth = u.username !== undefined ? `${encodeURIComponent(u.username)}:***@` : u.password !== undefined ? ':***@' : '';
  return `${u.tls ? 'rediss' : 'redis'}://${auth}${host}:${u.port}${u.db === 0 ? '' : `/${u.db}`}`;
}

/**
 * A URL text with its password replaced by `***`, also when the text does not parse: everything between
 * the first `:` after `scheme://` and the last `@` is hidden (over-hiding a broken URL is the safe side).
 */
export function redactUrl(text: string): string {
  return text.replace(/^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)(.*)@/s, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/**
 * `message` with every occurrence of the target's password (as given and percent-encoded) replaced by
 * `***`: for errors that come back from ioredis or Redis and may quote what they were sent.
 */
export function redact(message: string, u: Pick<ClusterUrl, 'password'>): string {
  const p = u.password;
  if (p === undefined) return message;
  let out = message;
  for (const form of new Set([p, encodeURIComponent(p)])) out = out.split(form).join('***');
  return out;
}

/**
 * ioredis options for a target. `overrides` win (BullMQ workers need `maxRetriesPerRequest: null`; a
 * one-shot command like `cluster status` wants to fail fast). TLS verifies the server's certificate
 * against its host name.
 */
export function ioredisOptions(u: ClusterUrl, overrides: Partial<RedisOptions> = {}): RedisOptions {
  const ipv6 = u.host.includes(':');
  const isIp = ipv6 || /^\d{1,3}(\.\d{1,3}){3}$/.test(u.host);
  const opts: RedisOptions = {
    host: u.host,
    port: u.port,
    db: u.db,
    // ioredis resolves names as IPv4 by default; an IPv6 literal must say so.
    ...(ipv6 ? { family: 6 } : {}),
    ...(u.username !== undefined ? { username: u.username } : {}),
    ...(u.password !== undefined ? { password: u.password } : {}),
    // SNI must not carry an IP address (RFC 6066); Node then checks the certificate's IP SAN.
    ...(u.tls ? { tls: isIp ? {} : { servername: u.host } } : {}),
  };
  return { ...opts, ...overrides };
}
