/**
 * reapStale(): remove the cgroups a killed kernel left behind, ending whatever still runs in them (its
 * orphaned agents). Found two ways: by name under our own cgroup in every hierarchy
 * (`agentos-<runId>.k<pid>.s<start>` run cgroups, `agentos.kernel.k<pid>.s<start>` v2 leaves), and by the
 * records in `<runtimeDir>/cgroups/*.json` (a kernel that ran from another cgroup). A cgroup is stale
 * when the process (pid, start time) named in it is no longer alive: a reused pid does not count.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSameLive, readPids, rmdirRetry, signal, sleep } from './cgfs.js';
import { detect } from './detect.js';
import { CgroupRecordSchema, type Capabilities } from './types.js';

/** What reapStale did. */
export interface ReapResult {
  /** cgroup directories removed (children before parents). */
  removed: string[];
  /** Pids still running in them, SIGKILLed. */
  killed: number[];
  /** What could not be done: `<dir or file>: <reason>`. */
  failed: string[];
}

const NAME = /^agentos(?:-[A-Za-z0-9_-]+|\.kernel)\.k(\d+)\.s(\d+)$/;

/** The kernel (pid, start) a cgroup name belongs to, or null when it is not one of ours. */
export function ownerOf(name: string): { pid: number; start: string } | null {
  const m = NAME.exec(name);
  return m ? { pid: Number(m[1]), start: m[2]! } : null;
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Kill every process in a cgroup and its children, then remove them, deepest first. */
async function reapDir(dir: string, out: ReapResult, deadlineMs: number): Promise<void> {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // already gone
  }
  for (const e of entries) if (isDir(join(dir, e))) await reapDir(join(dir, e), out, deadlineMs);
  const procs = join(dir, 'cgroup.procs');
  const deadline = Date.now() + deadlineMs;
  for (let pids = readPids(procs); pids.length > 0 && Date.now() <= deadline; pids = readPids(procs)) {
    if (existsSync(join(dir, 'cgroup.kill'))) {
      try {
        writeFileSync(join(dir, 'cgroup.kill'), '1');
      } catch {
        // fall through to SIGKILL each
      }
    }
    for (const p of pids) if (signal(p)) out.killed.push(p);
    await sleep(5);
  }
  const err = await rmdirRetry(dir, deadlineMs);
  if (err) out.failed.push(`${dir}: ${err}`);
  else out.removed.push(dir);
}

/**
 * Remove stale AgentOS cgroups (see the file comment). Never throws; what failed is in `failed`.
 * `caps` defaults to detect(); `runtimeDir` adds the records a Containment wrote there.
 */
export async function reapStale(opts: { runtimeDir?: string; caps?: Capabilities; deadlineMs?: number } = {}): Promise<ReapResult> {
  const out: ReapResult = { removed: [], killed: [], failed: [] };
  const caps = opts.caps ?? detect();
  const deadlineMs = opts.deadlineMs ?? 2000;
  const parents = [caps.v2?.own_dir, caps.v1.memory?.own_dir, caps.v1.pids?.own_dir, caps.v1.freezer?.own_dir].filter((d): d is string => !!d);
  const stale: string[] = [];
  for (const parent of parents) {
    let names: string[] = [];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const n of names) {
      const owner = ownerOf(n);
      if (owner && !isSameLive(owner.pid, owner.start) && isDir(join(parent, n))) stale.push(join(parent, n));
    }
  }
  const recDir = opts.runtimeDir ? join(opts.runtimeDir, 'cgroups') : null;
  const records: string[] = [];
  if (recDir && existsSync(recDir)) {
    for (const f of readdirSync(recDir).filter((x) => x.endsWith('.json'))) {
      const file = join(recDir, f);
      let parsed;
      try {
        parsed = CgroupRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (err) {
        out.failed.push(`${file}: not JSON (${err instanceof Error ? err.message : String(err)})`);
        continue;
      }
      if (!parsed.success) {
        out.failed.push(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        continue;
      }
      if (isSameLive(parsed.data.kernel_pid, parsed.data.kernel_start)) continue;
      // Only directories that carry one of our names: a record cannot make us remove anything else.
      for (const d of parsed.data.dirs) if (ownerOf(d.split('/').pop() ?? '') && !stale.includes(d)) stale.push(d);
      records.push(file);
    }
  }
  for (const d of stale) await reapDir(d, out, deadlineMs);
  for (const f of records) rmSync(f, { force: true });
  return out;
}
