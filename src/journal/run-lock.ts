/**
 * The lock a live kernel holds on its run directory, so two kernels never drive one run (a resume of a
 * run that is still alive, or two resumes at once).
 *
 * Who holds it: pid + process start time (/proc/<pid>/stat field 22, clock ticks since boot) + boot id
 * (/proc/sys/kernel/random/boot_id). A pid reused by another process has another start time; after a
 * reboot the boot id differs; a zombie holder is dead. Without /proc (not Linux) only pid liveness is
 * checked, so a reused pid there keeps the lock until its process exits (docs/durability.md).
 *
 * How it is taken, race-free without flock: lock files are generations, `run.lock.<N>`. A file is
 * written whole under a temporary name and link()ed into place — link fails if the name exists, like
 * O_EXCL, and a reader never sees a half-written lock. To take the lock one links generation top+1
 * where `top` is free (absent, or its holder dead), then checks that no higher generation exists; if one
 * does, someone else won and the loser removes its own file. Of two takers of one stale lock exactly one
 * link succeeds; a taker with an old view links a lower generation and loses the check. Files are only
 * removed by their holder, by a loser (its own), or by a winner (lower generations).
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentOSError } from '../errors.js';

const PREFIX = 'run.lock.';
const GEN = /^run\.lock\.(\d+)$/;

const holderSchema = z
  .object({
    pid: z.number().int().positive(),
    /** Field 22 of /proc/<pid>/stat (kept as text: it can exceed 2^53 on a long uptime); null without /proc. */
    start_ticks: z.string().nullable(),
    boot_id: z.string().nullable(),
    host: z.string(),
    /** Epoch ms. */
    acquired_at: z.number(),
    /** Random: tells this holder's file from another's with the same pid. */
    token: z.string(),
  })
  .strict();

export type LockHolder = z.output<typeof holderSchema>;

export interface RunLock {
  readonly runDir: string;
  readonly generation: number;
  readonly holder: LockHolder;
  /** Remove the lock file if it is still ours. Idempotent; never throws. */
  release(): void;
}

/** Identity of a process: start time and boot id, null where /proc does not say. */
export function processIdentity(pid: number): { start_ticks: string | null; boot_id: string | null } {
  return { start_ticks: procStat(pid)?.startTicks ?? null, boot_id: bootId() };
}

/** Whether the holder's process is still running: same boot, pid alive and not a zombie, same start time. */
export function holderAlive(h: LockHolder): boolean {
  // Another host's process cannot be checked from here (a run dir on a shared file system): assume alive.
  if (h.host !== hostname()) return true;
  const boot = bootId();
  if (boot !== null && h.boot_id !== null && boot !== h.boot_id) return false;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(h.pid);
  if (!stat) return true; // no /proc: pid liveness is all we have
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return h.start_ticks === null || stat.startTicks === h.start_ticks;
}

/** The current lock of a run directory (highest generation) and whether its holder lives, or null. */
export function readRunLock(runDir: string): { generation: number; holder: LockHolder | null; alive: boolean } | null {
  for (let i = 0; i < 8; i++) {
    const top = generations(runDir)[0];
    if (top === undefined) return null;
    const h = readHolder(runDir, top);
    if (h === 'gone') continue; // removed while we looked: look again
    return { generation: top, holder: h, alive: h !== null && holderAlive(h) };
  }
  return null;
}

/**
 * Take the lock of `runDir` for this process (taking over a lock whose holder is dead).
 * @throws AgentOSError `E_RUN_LOCKED` when a live process holds it; `E_JOURNAL_IO` when the directory
 *   cannot be written.
 */
export function acquireRunLock(runDir: string): RunLock {
  const holder: LockHolder = { pid: process.pid, ...processIdentity(process.pid), host: hostname(), acquired_at: Date.now(), token: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(holder)}\n`;
  // Bounded: each lost round means another process made progress (it linked a generation).
  for (let round = 0; round < 64; round++) {
    const top = generations(runDir)[0];
    if (top !== undefined) {
      const h = readHolder(runDir, top);
      if (h === 'gone') continue;
      if (h !== null && holderAlive(h)) throw locked(runDir, h);
    }
    const gen = (top ?? 0) + 1;
    if (!linkNew(runDir, gen, text)) continue;
    if (generations(runDir)[0] !== gen) {
      // A higher generation appeared: another taker won. Remove ours and look again (it will refuse).
      unlinkQuiet(join(runDir, PREFIX + gen));
      continue;
    }
    for (const g of generations(runDir)) if (g < gen) unlinkQuiet(join(runDir, PREFIX + g));
    return new HeldLock(runDir, gen, holder);
  }
  throw new AgentOSError('E_RUN_LOCKED', `${runDir}: could not take the run lock: other processes keep taking it. Fix: make sure only one kernel resumes this run.`, { file: runDir });
}

class HeldLock implements RunLock {
  private released = false;
  constructor(
    readonly runDir: string,
    readonly generation: number,
    readonly holder: LockHolder,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    const h = readHolder(this.runDir, this.generation);
    if (h !== 'gone' && h?.token === this.holder.token) unlinkQuiet(join(this.runDir, PREFIX + this.generation));
  }
}

function locked(runDir: string, h: LockHolder): AgentOSError {
  const where = h.host === hostname() ? '' : ` on host ${h.host}`;
  return new AgentOSError(
    'E_RUN_LOCKED',
    `${runDir}: the run is held by a live kernel (pid ${h.pid}${where}, since ${new Date(h.acquired_at).toISOString()}). Fix: stop that kernel (kill ${h.pid}) or let it finish; the lock of a dead kernel is taken over on its own.`,
    { file: runDir },
  );
}

/** Link generation `gen` into place, written whole first. False when it exists (lost a race). */
function linkNew(runDir: string, gen: number, text: string): boolean {
  const tmp = join(runDir, `.${PREFIX}tmp.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(tmp, text, { flag: 'wx', mode: 0o644 });
    linkSync(tmp, join(runDir, PREFIX + gen));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AgentOSError('E_JOURNAL_IO', `${runDir}: cannot write the run lock: ${(err as Error).message}`, { file: runDir, cause: err });
  } finally {
    unlinkQuiet(tmp);
  }
}

/** Generations present, highest first. */
function generations(runDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch (err) {
    throw new AgentOSError('E_JOURNAL_IO', `${runDir}: cannot read the run directory: ${(err as Error).message}`, { file: runDir, cause: err });
  }
  const out: number[] = [];
  for (const n of names) {
    const m = GEN.exec(n);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => b - a);
}

/** The holder in a generation's file; null when unreadable as a lock (stale: taken over); 'gone' when removed. */
function readHolder(runDir: string, gen: number): LockHolder | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(join(runDir, PREFIX + gen), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new AgentOSError('E_JOURNAL_IO', `${runDir}: cannot read the run lock: ${(err as Error).message}`, { file: runDir, cause: err });
  }
  try {
    return holderSchema.parse(JSON.parse(text));
  } catch {
    return null;
  }
}

function procStat(pid: number): { state: string; startTicks: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) is in parentheses and may hold spaces or ')': fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const startTicks = rest[22 - 3];
  return startTicks === undefined ? null : { state: rest[0] ?? '', startTicks };
}

let cachedBootId: string | null | undefined;
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
