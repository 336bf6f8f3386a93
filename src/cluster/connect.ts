/**
 * Redis connections of a node or coordinator. Every client retries forever with capped backoff and says
 * so: a lost connection is reported once (and its return once), never a silent exit, never a crash.
 * BullMQ needs `maxRetriesPerRequest: null` on the connections its workers and queue events block on.
 */
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ioredisOptions, redact, type ClusterUrl } from './redis-url.js';

/** Where connection trouble is said (a line, no trailing newline). */
export type Say = (line: string) => void;

/** Reconnect delay after the n-th failed try (ms): 50, 100, … capped at 2 s. */
export function reconnectDelayMs(times: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(times - 1, 6));
}

/**
 * ioredis options for a long-lived client of `target`: reconnect forever, commands wait while the link is
 * down (queued, resent after reconnecting) instead of failing after 20 tries.
 */
export function clusterRedisOptions(target: ClusterUrl, extra: Partial<RedisOptions> = {}): RedisOptions {
  return ioredisOptions(target, { maxRetriesPerRequest: null, retryStrategy: reconnectDelayMs, enableOfflineQueue: true, ...extra });
}

/**
 * A client named `role` whose connection errors are said once per outage through `say` (password
 * redacted), with the outage's length when it is back.
 */
export function connectRedis(target: ClusterUrl, role: string, say: Say, extra: Partial<RedisOptions> = {}): Redis {
  // A connection name is set with CLIENT SETNAME on every (re)connect, which Redis refuses on a connection
  // already in subscriber mode: subscriber clients (role ending in "(sub)") go without.
  const name = role.endsWith('(sub)') ? {} : { connectionName: `agentos-${role}`.replace(/[^A-Za-z0-9_.-]/g, '_') };
  const r = new Redis({ ...clusterRedisOptions(target, extra), ...name });
  watchConnection(r, role, target, say);
  return r;
}

/** Say when a client loses Redis and when it has it back (also for clients made by BullMQ). */
export function watchConnection(r: { on(ev: string, fn: (...a: unknown[]) => void): unknown }, role: string, target: Pick<ClusterUrl, 'password'>, say: Say): void {
  let downSince: number | null = null;
  let lastError = 'connection closed';
  // 'error' carries the reason; 'reconnecting' is the outage itself (a server that shut down cleanly
  // closes the connection without an error).
  r.on('error', (err: unknown) => {
    lastError = redact((err as Error)?.message ?? String(err), target);
  });
  r.on('reconnecting', () => {
    if (downSince !== null) return;
    downSince = Date.now();
    say(`agentos ${role}: Redis connection lost (${lastError}); retrying with backoff`);
  });
  r.on('ready', () => {
    if (downSince === null) return;
    say(`agentos ${role}: Redis connection back after ${Date.now() - downSince} ms`);
    downSince = null;
    lastError = 'connection closed';
  });
}

/**
 * The same options as BullMQ's connection type: BullMQ declares its own RedisOptions shape, which
 * ioredis's (what BullMQ passes them to) does not match field by field in TypeScript.
 */
export function bullmqConnection(o: RedisOptions): ConnectionOptions {
  return { ...o } as unknown as ConnectionOptions;
}
