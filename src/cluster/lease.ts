/**
 * The coordinator lease of a run: one coordinator at a time, and a fencing epoch that makes a deposed
 * one harmless.
 *
 * `{aos:R}:lease` holds the holder's record with a PX TTL (default 4 s, renewed every 1 s). Taking it
 * INCRs `{aos:R}:epoch`; every write of the run (the journal's batches, ./redis-journal.ts) checks that
 * epoch in the same script, so a coordinator that was paused or cut off past its TTL cannot write after
 * its successor. Safety comes from that fence, not from clocks: the TTL only decides when a successor
 * may start.
 *
 * A lease that expired while Redis was away (restarted, unreachable) and that nobody took meanwhile is
 * taken back on the next renewal: the epoch is still ours, so nothing happened in between.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { AgentOSError } from '../errors.js';
import { leaseRecordSchema, parseRecord, type LeaseRecord, type RunKeys } from './keys.js';

export interface LeaseOptions {
  /** Lease TTL in ms: how long after the holder's death a successor may take over. @default 4000 */
  ttlMs?: number;
  /** Renewal period in ms (well under ttlMs). @default 1000 */
  renewMs?: number;
  /** When the lease is held: wait up to this long (ms) for it to expire. @default 0 (throw at once) */
  waitMs?: number;
  host?: string;
  pid?: number;
}

export interface Lease {
  readonly runId: string;
  /** The fencing epoch: 1 for the run's first coordinator, +1 per takeover. */
  readonly epoch: number;
  readonly record: LeaseRecord;
  /** Resolves with the reason once Redis says another coordinator holds the run: stop at once. */
  readonly lost: Promise<AgentOSError>;
  readonly isLost: boolean;
  /** Renew now (also runs every renewMs). @throws AgentOSError `E_LEASE_LOST`. */
  renew(): Promise<void>;
  /** Stop renewing and delete the lease if it is still ours. Idempotent. */
  release(): Promise<void>;
}

// KEYS[1] lease, KEYS[2] epoch. ARGV[1] ttl ms, ARGV[2] the record's JSON without epoch ("{…}").
// Returns {epoch, record, pttl}; epoch 0 when held by someone else (record and pttl are theirs).
const ACQUIRE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, redis.call('PTTL', KEYS[1])} end
local epoch = redis.call('INCR', KEYS[2])
local rec = '{"epoch":' .. epoch .. ',' .. string.sub(ARGV[2], 2)
redis.call('SET', KEYS[1], rec, 'PX', ARGV[1])
return {epoch, rec, tonumber(ARGV[1])}
`;

// KEYS[1] lease, KEYS[2] epoch. ARGV[1] ttl, ARGV[2] '"token":"T"', ARGV[3] epoch, ARGV[4] record.
// 1 renewed, 2 taken back (expired, epoch unchanged), -1 lost.
const RENEW_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.find(cur, ARGV[2], 1, true) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) return 1 end
  return -1
end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[1]) return 2 end
return -1
`;

const RELEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and string.find(cur, ARGV[1], 1, true) then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface LeaseCommands {
  aosLeaseAcquire(lease: string, epoch: string, ttl: string, rec: string): Promise<[number, string, number]>;
  aosLeaseRenew(lease: string, epoch: string, ttl: string, token: string, ep: string, rec: string): Promise<number>;
  aosLeaseRelease(lease: string, epoch: string, token: string): Promise<number>;
}

function commands(redis: Redis): Redis & LeaseCommands {
  const r = redis as Redis & Partial<LeaseCommands>;
  if (!r.aosLeaseAcquire) {
    redis.defineCommand('aosLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE_LUA });
    redis.defineCommand('aosLeaseRenew', { numberOfKeys: 2, lua: RENEW_LUA });
    redis.defineCommand('aosLeaseRelease', { numberOfKeys: 2, lua: RELEASE_LUA });
  }
  return redis as Redis & LeaseCommands;
}

/**
 * Take the coordinator lease of a run and keep renewing it.
 * @throws AgentOSError `E_LEASE_HELD` (a live coordinator holds it: names its host, pid, epoch and how
 *   long until it expires) once `waitMs` is over; `E_CLUSTER` when Redis holds a bad record.
 */
export async function acquireLease(redis: Redis, keys: Pick<RunKeys, 'runId' | 'lease' | 'epoch'>, opts: LeaseOptions = {}): Promise<Lease> {
  const ttlMs = opts.ttlMs ?? 4000;
  const renewMs = opts.renewMs ?? 1000;
  if (!(renewMs > 0 && renewMs < ttlMs)) throw new AgentOSError('E_USAGE', `lease renewMs (${renewMs}) must be above 0 and below ttlMs (${ttlMs}).`);
  const token = randomBytes(12).toString('hex');
  const base = { run_id: keys.runId, token, host: opts.host ?? hostname(), pid: opts.pid ?? process.pid, acquired_at_ms: Date.now() };
  const r = commands(redis);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (;;) {
    const [epoch, raw, pttl] = await r.aosLeaseAcquire(keys.lease, keys.epoch, String(ttlMs), JSON.stringify(base));
    const rec = parseRecord(leaseRecordSchema, raw, keys.lease);
    if (epoch > 0) return new HeldLease(r, keys, rec, ttlMs, renewMs);
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new AgentOSError(
        'E_LEASE_HELD',
        `run ${keys.runId} is held by the coordinator pid ${rec.pid} on ${rec.host} (epoch ${rec.epoch}); its lease expires in ${pttl} ms unless it renews. Fix: stop that coordinator, or wait and resume again.`,
      );
    }
    // The holder renews well before expiry; check again when it would have expired (or at the deadline).
    await new Promise((res) => setTimeout(res, Math.max(10, Math.min(left, pttl + 5))));
  }
}

class HeldLease implements Lease {
  readonly runId: string;
  readonly epoch: number;
  readonly lost: Promise<AgentOSError>;
  private lose!: (e: AgentOSError) => void;
  private lostErr: AgentOSError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private released = false;

  constructor(
    private readonly redis: Redis & LeaseCommands,
    private readonly keys: Pick<RunKeys, 'runId' | 'lease' | 'epoch'>,
    readonly record: LeaseRecord,
    private readonly ttlMs: number,
    private readonly renewMs: number,
  ) {
    this.runId = keys.runId;
    this.epoch = record.epoch;
    this.lost = new Promise((res) => (this.lose = res));
    this.schedule();
  }

  get isLost(): boolean {
    return this.lostErr !== null;
  }

  async renew(): Promise<void> {
    if (this.lostErr) throw this.lostErr;
    const rec = JSON.stringify(this.record);
    const r = await this.redis.aosLeaseRenew(this.keys.lease, this.keys.epoch, String(this.ttlMs), `"token":"${this.record.token}"`, String(this.epoch), rec);
    if (r < 0) {
      this.lostErr = new AgentOSError('E_LEASE_LOST', `run ${this.runId}: the coordinator lease (epoch ${this.epoch}) was taken by another coordinator. This one must stop.`);
      this.stop();
      this.lose(this.lostErr);
      throw this.lostErr;
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stop();
    if (!this.lostErr) await this.redis.aosLeaseRelease(this.keys.lease, this.keys.epoch, `"token":"${this.record.token}"`);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      // A failed renewal (Redis away) is retried at the next tick; losing it is decided by Redis alone.
      this.renew().then(
        () => this.released || this.lostErr || this.schedule(),
        () => this.released || this.lostErr || this.schedule(),
      );
    }, this.renewMs);
    // The coordinator's own work keeps the process alive, not the lease.
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
